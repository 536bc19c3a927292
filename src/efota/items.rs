//! `Operations/DownloadItems`: the E-FOTA client downloads each item the server listed in
//! `Items/<n>/URL` (a Download Descriptor's URL) through OMA Download, hands it to its content
//! handler, which installs it into the client's inventory, and reports how the items ended.
//!
//! # One item
//!
//! | step | what happens |
//! | --- | --- |
//! | inspect attempt *n* | one GET of the descriptor as a document ([`DownloadRequest::as_document`]), before anything is downloaded; network and availability failures are tried again |
//! | vet | the client's own checks of the descriptor: a content handler takes one of its types (else `item.unsupported-content`, 907), the device has what the item requires (`MIN-CLIENT=`, `REQUIRES=` of `installParam`; else `item.requirements-not-met`, 959), the version offered (`VERSION=`) is not the one installed (else `item.already-installed`, 958) |
//! | download attempt *n* | the OMA Download of the item ([`Action::Download`](crate::engine::Action::Download), the download agent: descriptor, the device's checks, the object with resume, verification, the install notification); its failures end the item in the download phase with their DL status (901, 902, 903, 905, 906, 951, 952, 953, 954; an object that changed on the server between two parts, 955 on this device) |
//! | install | the content handler installs the object: the item goes in the inventory (`Inventory/<id>`, `item.succeeded`, 900), or the handler's environment refuses it with a status of its own (`item.handler-failed`: 960 followed by that status) |
//!
//! A descriptor that does not read at the inspect step is left to the download agent, which
//! refuses it with its DL status (906, 951) and notifies the descriptor's `installNotifyURI` when
//! it can be read. A URL that answers an object instead of a descriptor ends the item as an
//! invalid descriptor (906): an item comes with its descriptor.
//!
//! # Items of one operation
//!
//! The items are taken one after the other, each to its end whatever the others did. Each item's
//! E-FOTA code is the `knox-efota` row of its outcome, else the row whose `from` names its DL
//! status (the relation: DL statuses as they are). When every item has the same code(s), the
//! report carries them; when they differ, it is `970` followed by each item's code(s) in order,
//! e.g. `970 900 958`, or `970 900 960 -100` (a 960 keeps its status after it).
//!
//! # installParam
//!
//! The descriptor's `installParam` is opaque to OMA Download and meant for the content handler; the
//! client reads these `;`-separated `KEY=value` pairs (keys without case), besides the hashes the
//! download agent checks:
//!
//! * `ID`: the item's id in the inventory (default: the descriptor's `name`, else the last segment
//!   of its `objectURI`);
//! * `VERSION`: the item's version;
//! * `MIN-CLIENT`: the lowest E-FOTA client version that can use it (dotted numbers);
//! * `REQUIRES`: features the device must have, separated by `,` (the family's devices have
//!   `knox`, `dex` and `nfc`).
//!
//! # Content handlers
//!
//! [`default_handlers`]: Android packages (`application/vnd.android.package-archive`), installed
//! by the Android package manager, whose refusals are its `INSTALL_*` codes: an object that is not
//! an APK (a ZIP archive) is `-100` (`INSTALL_PARSE_FAILED_NOT_APK`), a version lower than the one
//! installed `-25` (`INSTALL_FAILED_VERSION_DOWNGRADE`); and files (`application/octet-stream`,
//! `text/plain`, `application/json`, `application/vnd.dmsim.item`), kept as they are.

use super::client::{Client, Ending, Step};
use crate::download::{DownloadOutcome, Partial};
use crate::engine::{self, Env, Input};
use crate::outcome::{self, Cause, Key, Operation, Outcome};
use crate::profile::{Platform, Table};
use crate::protocol::download::{Descriptor, DlStatus, HashAlgorithm};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The Android package manager's status for an object that is not an APK
/// (`PackageManager.INSTALL_PARSE_FAILED_NOT_APK`).
pub const INSTALL_PARSE_FAILED_NOT_APK: i64 = -100;
/// The Android package manager's status for a version lower than the one installed
/// (`PackageManager.INSTALL_FAILED_VERSION_DOWNGRADE`).
pub const INSTALL_FAILED_VERSION_DOWNGRADE: i64 = -25;

/// The first bytes of a ZIP archive (an APK is one).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// An item the client installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub id: String,
    /// Empty when the descriptor gave none.
    pub version: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of the object, hex.
    pub sha256: String,
}

impl InventoryItem {
    /// The item's node name under `Inventory` (characters a node name cannot hold become `_`).
    pub fn node_name(&self) -> String {
        let name: String = self
            .id
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
                _ => '_',
            })
            .collect();
        if name.is_empty() {
            "_".to_string()
        } else {
            name
        }
    }
}

/// What installs an item of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandlerKind {
    /// The Android package manager.
    AndroidPackage,
    /// Files kept as they are.
    File,
}

/// A content handler: the types it takes and what installs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentHandler {
    pub types: Vec<String>,
    pub kind: HandlerKind,
}

/// The content handlers of the family's devices (see the module docs).
pub fn default_handlers() -> Vec<ContentHandler> {
    vec![
        ContentHandler {
            types: vec!["application/vnd.android.package-archive".into()],
            kind: HandlerKind::AndroidPackage,
        },
        ContentHandler {
            types: [
                "application/octet-stream",
                "text/plain",
                "application/json",
                "application/vnd.dmsim.item",
            ]
            .map(str::to_string)
            .to_vec(),
            kind: HandlerKind::File,
        },
    ]
}

/// What the client learned of an item from its descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemInfo {
    pub id: String,
    pub version: Option<String>,
    /// The descriptor's type a handler takes, and the handler.
    pub content_type: String,
    pub handler: HandlerKind,
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemEnded {
    /// Its outcome, `phase.cause`.
    pub key: String,
    /// The DL status its OMA Download ended with, when it got that far.
    pub dl_status: Option<u16>,
    /// The content handler's own status (960).
    pub internal: Option<i64>,
    pub detail: Option<String>,
}

/// Where an item is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemPhase {
    /// Reading its descriptor; `attempts` made so far.
    Inspect { attempts: u32 },
    /// Its OMA Download; `info` is `None` when the descriptor did not read at the inspect step.
    Download {
        attempts: u32,
        info: Option<ItemInfo>,
    },
    /// The object is held whole; its handler installs it.
    Install {
        info: ItemInfo,
        dl_status: Option<u16>,
    },
}

/// One item of the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub url: String,
    pub phase: ItemPhase,
    pub ended: Option<ItemEnded>,
}

/// A `DownloadItems` job, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemsJob {
    pub items: Vec<Item>,
    /// The item being taken.
    pub current: usize,
}

impl ItemsJob {
    pub fn new(urls: Vec<String>) -> ItemsJob {
        ItemsJob {
            items: urls
                .into_iter()
                .map(|url| Item {
                    url,
                    phase: ItemPhase::Inspect { attempts: 0 },
                    ended: None,
                })
                .collect(),
            current: 0,
        }
    }
}

/// One step of the job.
pub(super) fn step(
    job: &mut ItemsJob,
    client: &mut Client,
    input: Input,
    env: &mut Env<'_>,
) -> Step {
    let Some(item) = job.items.get_mut(job.current) else {
        return report(job, client, env);
    };
    let url = item.url.clone();
    let ended = match (item.phase.clone(), input) {
        (ItemPhase::Inspect { attempts }, Input::Resume) => {
            let request = engine::download_request(&url, attempts, env).as_document();
            return Step::Download {
                request,
                partial: Partial::new(),
            };
        }
        (ItemPhase::Inspect { attempts }, Input::Downloaded { outcome, .. }) => {
            match inspected(item, client, env, attempts, *outcome) {
                Ok(step) => return step,
                Err(ended) => ended,
            }
        }
        (ItemPhase::Download { attempts, .. }, Input::Resume) => {
            let partial = client.take_partial();
            let request = engine::download_request(&url, attempts, env);
            return Step::Download { request, partial };
        }
        (ItemPhase::Download { attempts, info }, Input::Downloaded { outcome, partial }) => {
            match downloaded(item, client, env, attempts, info, *outcome, partial) {
                Ok(step) => return step,
                Err(ended) => ended,
            }
        }
        (ItemPhase::Install { info, dl_status }, Input::Resume) => {
            if !client.holds_object() {
                tracing::warn!(url, "the item's bytes are gone: downloading it again");
                item.phase = ItemPhase::Download {
                    attempts: 0,
                    info: Some(info),
                };
                return Step::Save;
            }
            install(client, env, info, dl_status)
        }
        (phase, Input::Downloaded { .. }) => {
            tracing::error!(
                ?phase,
                "a download outcome for an item not downloading is dropped"
            );
            return Step::Save;
        }
    };
    client.drop_held();
    item.ended = Some(ended);
    job.current = job.current.saturating_add(1);
    Step::Save
}

/// The item ended with `key`, its DL status and detail.
fn ended(key: Key, dl_status: Option<DlStatus>, detail: impl ToString) -> ItemEnded {
    ItemEnded {
        key: key.to_string(),
        dl_status: dl_status.map(DlStatus::code),
        internal: None,
        detail: Some(detail.to_string()),
    }
}

/// The item's download ended with `cause`: its DL status is the attempt's, else the profile's.
fn download_failed(
    env: &Env<'_>,
    cause: &crate::download::DownloadFailure,
    dl_status: Option<DlStatus>,
) -> ItemEnded {
    let key = cause.key();
    let status = dl_status.unwrap_or_else(|| env.profile.dl_status(key));
    ended(key, Some(status), cause)
}

/// What reading the descriptor came to: the next step, or how the item ended.
fn inspected(
    item: &mut Item,
    client: &mut Client,
    env: &Env<'_>,
    attempts: u32,
    outcome: DownloadOutcome,
) -> Result<Step, ItemEnded> {
    match outcome {
        DownloadOutcome::Downloaded { bytes, .. } => {
            let info = match Descriptor::parse(&bytes) {
                Ok(descriptor) => Some(vet(client, &descriptor)?),
                Err(e) => {
                    tracing::debug!(error = %e, "the item's descriptor does not read; the download agent judges it");
                    None
                }
            };
            item.phase = ItemPhase::Download { attempts: 0, info };
            Ok(Step::Save)
        }
        DownloadOutcome::Failed { cause, .. } => match engine::retry_after(&cause, attempts) {
            Some(seconds) => {
                item.phase = ItemPhase::Inspect {
                    attempts: attempts.saturating_add(1),
                };
                Ok(Step::Wait(seconds))
            }
            None => Err(download_failed(env, &cause, None)),
        },
    }
}

/// What a download attempt of the item came to.
fn downloaded(
    item: &mut Item,
    client: &mut Client,
    env: &Env<'_>,
    attempts: u32,
    info: Option<ItemInfo>,
    outcome: DownloadOutcome,
    partial: Partial,
) -> Result<Step, ItemEnded> {
    if let Some(status) = outcome.dl_status() {
        client.dl_statuses.push(status);
    }
    match outcome {
        DownloadOutcome::Downloaded {
            bytes,
            descriptor,
            dl_status,
            ..
        } => {
            let Some(descriptor) = descriptor else {
                let key = Key(outcome::Phase::Download, Cause::InvalidDescriptor);
                return Err(ended(
                    key,
                    Some(env.profile.dl_status(key)),
                    "the item's URL answered an object, not a download descriptor",
                ));
            };
            let info = match info {
                Some(info) => info,
                None => vet(client, &descriptor)?,
            };
            let whole = Partial {
                url: item.url.clone(),
                expected_size: Some(bytes.len() as u64),
                bytes,
                validator: None,
            };
            client.keep_partial(whole, true);
            item.phase = ItemPhase::Install {
                info,
                dl_status: dl_status.map(DlStatus::code),
            };
            Ok(Step::Save)
        }
        DownloadOutcome::Failed {
            cause, dl_status, ..
        } => match engine::retry_after(&cause, attempts) {
            Some(seconds) => {
                client.keep_partial(partial, false);
                item.phase = ItemPhase::Download {
                    attempts: attempts.saturating_add(1),
                    info,
                };
                Ok(Step::Wait(seconds))
            }
            None => Err(download_failed(env, &cause, dl_status)),
        },
    }
}

/// The `KEY=value` pairs of `installParam` the client reads (keys in upper case).
fn param(descriptor: &Descriptor, key: &str) -> Option<String> {
    descriptor
        .install_param
        .as_deref()?
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Compare two dotted versions of whole numbers (`3.6.12`); `None` when either is not one.
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let parts = |v: &str| -> Option<Vec<u64>> { v.split('.').map(|p| p.parse().ok()).collect() };
    let (mut a, mut b) = (parts(a)?, parts(b)?);
    let len = a.len().max(b.len());
    a.resize(len, 0);
    b.resize(len, 0);
    Some(a.cmp(&b))
}

/// The client's checks of an item's descriptor, before it downloads anything (see the module
/// docs).
fn vet(client: &Client, descriptor: &Descriptor) -> Result<ItemInfo, ItemEnded> {
    let key = |cause| Key(outcome::Phase::Item, cause);
    let handled = descriptor.types.iter().find_map(|t| {
        let essence = t
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        client
            .config
            .handlers
            .iter()
            .find(|h| h.types.iter().any(|ht| ht.eq_ignore_ascii_case(&essence)))
            .map(|h| (essence, h.kind))
    });
    let Some((content_type, handler)) = handled else {
        return Err(ended(
            key(Cause::UnsupportedContent),
            None,
            format!("no content handler takes {:?}", descriptor.types),
        ));
    };
    if let Some(min) = param(descriptor, "MIN-CLIENT") {
        let ok =
            compare_versions(&client.client_version, &min).is_some_and(|o| o != Ordering::Less);
        if !ok {
            return Err(ended(
                key(Cause::RequirementsNotMet),
                None,
                format!(
                    "the item needs client {min}, the device runs {}",
                    client.client_version
                ),
            ));
        }
    }
    if let Some(required) = param(descriptor, "REQUIRES") {
        let missing: Vec<&str> = required
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .filter(|f| {
                !client
                    .config
                    .features
                    .iter()
                    .any(|have| have.eq_ignore_ascii_case(f))
            })
            .collect();
        if !missing.is_empty() {
            return Err(ended(
                key(Cause::RequirementsNotMet),
                None,
                format!("the device lacks {}", missing.join(", ")),
            ));
        }
    }
    let id = param(descriptor, "ID")
        .or_else(|| descriptor.name.clone())
        .or_else(|| {
            let path = descriptor.object_uri.split(['?', '#']).next().unwrap_or("");
            path.rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| descriptor.object_uri.clone());
    let version = param(descriptor, "VERSION");
    let installed = client.durable.inventory.iter().find(|i| i.id == id);
    if let (Some(installed), Some(offered)) = (installed, &version) {
        if installed.version == *offered {
            return Err(ended(
                key(Cause::AlreadyInstalled),
                None,
                format!("{id} {offered} is already installed"),
            ));
        }
    }
    Ok(ItemInfo {
        id,
        version,
        content_type,
        handler,
    })
}

/// The content handler installs the object held.
fn install(
    client: &mut Client,
    env: &mut Env<'_>,
    info: ItemInfo,
    dl_status: Option<u16>,
) -> ItemEnded {
    let bytes = &client.bytes;
    let installed = client.durable.inventory.iter().find(|i| i.id == info.id);
    let refused = match info.handler {
        HandlerKind::File => None,
        HandlerKind::AndroidPackage => {
            let downgrade = match (installed, &info.version) {
                (Some(i), Some(v)) => compare_versions(v, &i.version) == Some(Ordering::Less),
                _ => false,
            };
            if !bytes.starts_with(ZIP_MAGIC) {
                Some((INSTALL_PARSE_FAILED_NOT_APK, "the object is not an APK"))
            } else if downgrade {
                Some((
                    INSTALL_FAILED_VERSION_DOWNGRADE,
                    "a lower version than the one installed",
                ))
            } else {
                None
            }
        }
    };
    if let Some((status, why)) = refused {
        return ItemEnded {
            key: Key(outcome::Phase::Item, Cause::HandlerFailed).to_string(),
            dl_status,
            internal: Some(status),
            detail: Some(format!(
                "{}: the package manager answered {status} ({why})",
                info.id
            )),
        };
    }
    let item = InventoryItem {
        id: info.id.clone(),
        version: info.version.clone().unwrap_or_default(),
        content_type: info.content_type.clone(),
        size: bytes.len() as u64,
        sha256: HashAlgorithm::Sha256.hex_digest(bytes),
    };
    let inventory = &mut client.durable.inventory;
    match inventory.iter_mut().find(|i| i.id == item.id) {
        Some(old) => *old = item,
        None => inventory.push(item),
    }
    client.show_inventory(env.tree, env.now);
    ItemEnded {
        key: Key(outcome::Phase::Item, Cause::Succeeded).to_string(),
        dl_status,
        internal: None,
        detail: Some(format!(
            "{} {} installed",
            info.id,
            info.version.as_deref().unwrap_or("")
        )),
    }
}

/// The codes of one item's ending: its row's, and the handler's status after a 960.
fn item_codes(
    ended: &ItemEnded,
    env: &Env<'_>,
    platform: Platform,
) -> Option<(Key, &'static crate::profile::Row, Vec<i64>)> {
    let key = Key::parse(&ended.key)?;
    let oma = ended.dl_status.map(|s| (Table::DlStatus, i64::from(s)));
    let row = env
        .profile
        .vendor_row(Table::KnoxEfota, Some(key), oma, platform)?;
    let mut codes = vec![row.code];
    codes.extend(ended.internal);
    Some((key, row, codes))
}

/// Every item ended: the job's report (see the module docs).
fn report(job: &ItemsJob, client: &Client, env: &Env<'_>) -> Step {
    let platform = client.platform;
    let mut per_item = Vec::with_capacity(job.items.len());
    for item in &job.items {
        let coded = item
            .ended
            .as_ref()
            .and_then(|e| item_codes(e, env, platform));
        let Some(coded) = coded else {
            tracing::warn!(url = item.url, "an item without an E-FOTA code");
            let outcome = Outcome::new(
                Operation::DownloadItems,
                outcome::Phase::Item,
                Cause::Succeeded,
            );
            return Step::Finish(Ending {
                outcome,
                row: None,
                codes: Vec::new(),
            });
        };
        per_item.push(coded);
    }
    let details: Vec<String> = job
        .items
        .iter()
        .zip(&per_item)
        .map(|(item, (key, _, codes))| {
            let codes: Vec<String> = codes.iter().map(i64::to_string).collect();
            let detail = item
                .ended
                .as_ref()
                .and_then(|e| e.detail.as_deref())
                .unwrap_or("");
            format!("{} → {key} {} ({detail})", item.url, codes.join(" "))
        })
        .collect();
    let detail = details.join("; ");
    let same = per_item.windows(2).all(|w| w[0].2 == w[1].2);
    match per_item.first() {
        Some((key, row, codes)) if same => Step::Finish(Ending {
            outcome: Outcome::new(Operation::DownloadItems, key.0, key.1).with_detail(detail),
            row: Some(row),
            codes: codes.clone(),
        }),
        _ => {
            let outcome = Outcome::new(
                Operation::DownloadItems,
                outcome::Phase::Item,
                Cause::ItemsDiffered,
            )
            .with_detail(detail);
            let mut ending = Ending::of(outcome, env, platform);
            if !ending.codes.is_empty() {
                ending.codes.extend(
                    per_item
                        .iter()
                        .flat_map(|(_, _, codes)| codes.iter().copied()),
                );
            }
            Step::Finish(ending)
        }
    }
}
