//! The mock server's script: the management commands it sends, package by package.
//!
//! Scripts are written in scenario files (TOML) and turned into SyncML commands when sent:
//!
//! ```toml
//! [[server.package]]
//! [[server.package.command]]
//! cmd = "get"
//! target = "./DevInfo/Mod"
//!
//! [[server.package.command]]
//! cmd = "alert"
//! code = 1101
//! text = "Install now?"
//! options = "MAXDT=30"
//! ```
//!
//! `abort` is not a command but a step: the server ends the session with Alert 1223.
//!
//! A package goes in one of each device's sessions: its first by default, the one its `session`
//! key numbers (`session = 2`), or every one (`session = "every"`, `"each"` too). A device's
//! sessions are counted from the first in which it passed authentication (one the server refused
//! for good does not count), per device id.

use crate::syncml::{
    Alert, AlertCode, Command, Container, Data, Delete, Exec, Get, Item, ItemCommand, Location,
    Meta, UnknownCommand,
};
use serde::Deserialize;

/// One package the server sends (Package 2, 4, …).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptPackage {
    /// Which of the device's sessions the package is sent in (its first by default): a campaign
    /// sends its commands in the first session and only acknowledges reports later.
    #[serde(default)]
    pub session: SessionChoice,
    #[serde(default, rename = "command")]
    pub commands: Vec<ScriptCommand>,
}

/// Which of a device's sessions a script package goes in: `session = 2` in a scenario, or
/// `session = "every"` (`"each"` is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChoice {
    /// The device's Nth session, counted from 1.
    Nth(u32),
    /// Every session of every device.
    Every,
}

impl Default for SessionChoice {
    /// The device's first session.
    fn default() -> SessionChoice {
        SessionChoice::Nth(1)
    }
}

impl SessionChoice {
    /// Whether the package goes in the device's `ordinal`th session.
    pub fn includes(self, ordinal: u32) -> bool {
        match self {
            SessionChoice::Nth(n) => n == ordinal,
            SessionChoice::Every => true,
        }
    }
}

impl std::fmt::Display for SessionChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionChoice::Nth(n) => write!(f, "session {n}"),
            SessionChoice::Every => f.write_str("every session"),
        }
    }
}

impl<'de> Deserialize<'de> for SessionChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SessionChoice, D::Error> {
        struct Choice;
        impl serde::de::Visitor<'_> for Choice {
            type Value = SessionChoice;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a session number from 1, or \"every\"")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<SessionChoice, E> {
                match u32::try_from(n) {
                    Ok(n) if n >= 1 => Ok(SessionChoice::Nth(n)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Unsigned(n), &self)),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<SessionChoice, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<SessionChoice, E> {
                match s {
                    "every" | "each" => Ok(SessionChoice::Every),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(s), &self)),
                }
            }
        }
        d.deserialize_any(Choice)
    }
}

/// One item of a command.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    pub target: Option<String>,
    pub source: Option<String>,
    pub data: Option<String>,
    pub format: Option<String>,
    #[serde(rename = "type")]
    pub mime: Option<String>,
    /// Declared `Meta/Size` (a size that differs from the data makes the device answer 424).
    pub size: Option<u64>,
    /// Mark the item as a chunk with more to come, and send no more (the device answers 1225).
    #[serde(default)]
    pub more_data: bool,
}

/// Add, Replace, Delete, Copy and Get: one item written inline, or a list of items.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemsSpec {
    pub target: Option<String>,
    pub source: Option<String>,
    pub data: Option<String>,
    pub format: Option<String>,
    #[serde(rename = "type")]
    pub mime: Option<String>,
    /// Declared `Meta/Size` (a size that differs from the data makes the device answer 424).
    pub size: Option<u64>,
    /// Mark the item as a chunk with more to come, and send no more (the device answers 1225).
    #[serde(default)]
    pub more_data: bool,
    /// Send `data` this many times over (for large objects).
    pub repeat: Option<usize>,
    /// Send the bytes of a file the server hosts as the item's data (base64, Format `b64`), e.g. a
    /// firmware package pushed in-band to `<x>/Update/PkgData`.
    pub data_file: Option<String>,
    /// The bytes of `data_file`, attached by [`attach_files`].
    #[serde(skip)]
    pub file_bytes: Option<std::sync::Arc<[u8]>>,
    #[serde(default)]
    pub items: Vec<ItemSpec>,
    #[serde(default)]
    pub no_resp: bool,
}

/// Exec on a node.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecSpec {
    pub target: Option<String>,
    pub data: Option<String>,
    pub correlator: Option<String>,
    /// Send the Exec with this many items (the DTD wants exactly one), to test a device's 400.
    pub item_count: Option<usize>,
}

/// A UI alert (1100-1104), or any other alert code.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSpec {
    pub code: u16,
    #[serde(default)]
    pub options: String,
    pub text: Option<String>,
    #[serde(default)]
    pub choices: Vec<String>,
}

/// Atomic or Sequence.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    #[serde(default, rename = "command")]
    pub commands: Vec<ScriptCommand>,
}

/// A command DM does not define, sent to see how the device answers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub name: String,
}

/// A step of the server's script.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum ScriptCommand {
    Add(ItemsSpec),
    Replace(ItemsSpec),
    Delete(ItemsSpec),
    Copy(ItemsSpec),
    Get(ItemsSpec),
    Exec(ExecSpec),
    Alert(AlertSpec),
    Atomic(ContainerSpec),
    Sequence(ContainerSpec),
    /// A command element outside DM (e.g. `Sync`).
    Unknown(RawSpec),
    /// End the session with Alert 1223.
    Abort,
}

impl ScriptCommand {
    /// The SyncML command, numbered from `next_id`.
    pub fn to_command(&self, next_id: &mut u32) -> Command {
        let cmd_id = {
            let id = next_id.to_string();
            *next_id += 1;
            id
        };
        match self {
            ScriptCommand::Add(s) => Command::Add(item_command(cmd_id, s)),
            ScriptCommand::Replace(s) => Command::Replace(item_command(cmd_id, s)),
            ScriptCommand::Copy(s) => Command::Copy(item_command(cmd_id, s)),
            ScriptCommand::Delete(s) => {
                let c = item_command(cmd_id, s);
                Command::Delete(Delete {
                    cmd_id: c.cmd_id,
                    no_resp: c.no_resp,
                    items: c.items,
                    ..Delete::default()
                })
            }
            ScriptCommand::Get(s) => {
                let c = item_command(cmd_id, s);
                Command::Get(Get {
                    cmd_id: c.cmd_id,
                    no_resp: c.no_resp,
                    items: c.items,
                    ..Get::default()
                })
            }
            ScriptCommand::Exec(s) => {
                let item = Item {
                    target: s.target.clone().map(Location::uri),
                    data: s.data.clone().map(Data::Text),
                    ..Item::default()
                };
                Command::Exec(Exec {
                    cmd_id,
                    correlator: s.correlator.clone(),
                    items: vec![item; s.item_count.unwrap_or(1)],
                    ..Exec::default()
                })
            }
            ScriptCommand::Alert(s) => Command::Alert(Alert {
                cmd_id,
                no_resp: false,
                cred: None,
                code: AlertCode::from_code(s.code),
                correlator: None,
                items: alert_items(s),
            }),
            ScriptCommand::Atomic(s) => Command::Atomic(container(cmd_id, s, next_id)),
            ScriptCommand::Sequence(s) => Command::Sequence(container(cmd_id, s, next_id)),
            ScriptCommand::Unknown(s) => Command::Unknown(UnknownCommand {
                name: s.name.clone(),
                cmd_id,
            }),
            ScriptCommand::Abort => Command::Alert(Alert {
                cmd_id,
                ..Alert::bare(AlertCode::SessionAbort)
            }),
        }
    }
}

fn item_command(cmd_id: String, s: &ItemsSpec) -> ItemCommand {
    let inline = ItemSpec {
        target: s.target.clone(),
        source: s.source.clone(),
        data: s.data.as_ref().map(|d| d.repeat(s.repeat.unwrap_or(1))),
        format: s.format.clone(),
        mime: s.mime.clone(),
        size: s.size,
        more_data: s.more_data,
    };
    let specs = if inline == ItemSpec::default() {
        s.items.clone()
    } else {
        vec![inline]
    };
    let mut items: Vec<Item> = specs.iter().map(item).collect();
    if let (Some(bytes), [first, ..]) = (&s.file_bytes, items.as_mut_slice()) {
        // Binary data goes as base64 text with Format b64, which both encodings carry and the
        // device decodes into a bin value.
        use base64::Engine as _;
        first.data = Some(Data::Text(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ));
        first.meta.get_or_insert_with(Meta::default).format = Some("b64".to_string());
    }
    ItemCommand {
        cmd_id,
        no_resp: s.no_resp,
        cred: None,
        meta: None,
        items,
    }
}

/// The most bytes one item's data may have once `repeat` is applied: a script builds it in memory
/// for every session that sends it. Far above any MaxObjSize a scenario uses (a device announces
/// 1 MiB by default), so large objects of any realistic size can be tested.
pub const MAX_ITEM_DATA: usize = 8 << 20;

/// The most items an Exec may be sent with (`item_count`, to test a device's 400).
pub const MAX_EXEC_ITEMS: usize = 1000;

/// Check a script against the bounds above: the first command over one, named by its place
/// (`package[0].command[2].command[1]`).
pub fn check_limits(packages: &[ScriptPackage]) -> Result<(), String> {
    fn walk(commands: &[ScriptCommand], at: &str) -> Result<(), String> {
        for (i, cmd) in commands.iter().enumerate() {
            let here = format!("{at}.command[{i}]");
            match cmd {
                ScriptCommand::Add(s)
                | ScriptCommand::Replace(s)
                | ScriptCommand::Delete(s)
                | ScriptCommand::Copy(s)
                | ScriptCommand::Get(s) => {
                    let len = s.data.as_ref().map_or(0, String::len);
                    let total = len.checked_mul(s.repeat.unwrap_or(1));
                    if total.is_none_or(|t| t > MAX_ITEM_DATA) {
                        return Err(format!(
                            "{here}: data of {len} bytes repeated {} times is more than the {MAX_ITEM_DATA} bytes an item may have",
                            s.repeat.unwrap_or(1)
                        ));
                    }
                }
                ScriptCommand::Exec(e) if e.item_count.is_some_and(|n| n > MAX_EXEC_ITEMS) => {
                    return Err(format!(
                        "{here}: item_count {} is more than {MAX_EXEC_ITEMS}",
                        e.item_count.unwrap_or_default()
                    ));
                }
                ScriptCommand::Atomic(c) | ScriptCommand::Sequence(c) => walk(&c.commands, &here)?,
                ScriptCommand::Exec(_)
                | ScriptCommand::Alert(_)
                | ScriptCommand::Unknown(_)
                | ScriptCommand::Abort => {}
            }
        }
        Ok(())
    }
    for (i, package) in packages.iter().enumerate() {
        walk(&package.commands, &format!("server.package[{i}]"))?;
    }
    Ok(())
}

/// A script command's `data_file` names no file the server hosts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data_file {0:?} is not a file the server hosts")]
pub struct UnhostedDataFile(pub String);

/// Attach the bytes of every `data_file` the script names, looked up with `file`; an unknown
/// file is an error naming it.
pub fn attach_files<'a>(
    packages: &mut [ScriptPackage],
    file: &impl Fn(&str) -> Option<&'a [u8]>,
) -> Result<(), UnhostedDataFile> {
    fn walk<'a>(
        commands: &mut [ScriptCommand],
        file: &impl Fn(&str) -> Option<&'a [u8]>,
    ) -> Result<(), UnhostedDataFile> {
        for cmd in commands {
            match cmd {
                ScriptCommand::Add(s)
                | ScriptCommand::Replace(s)
                | ScriptCommand::Delete(s)
                | ScriptCommand::Copy(s)
                | ScriptCommand::Get(s) => {
                    if let Some(path) = &s.data_file {
                        let bytes = file(path).ok_or_else(|| UnhostedDataFile(path.clone()))?;
                        s.file_bytes = Some(bytes.into());
                    }
                }
                ScriptCommand::Atomic(c) | ScriptCommand::Sequence(c) => {
                    walk(&mut c.commands, file)?
                }
                ScriptCommand::Exec(_)
                | ScriptCommand::Alert(_)
                | ScriptCommand::Unknown(_)
                | ScriptCommand::Abort => {}
            }
        }
        Ok(())
    }
    for package in packages {
        walk(&mut package.commands, file)?;
    }
    Ok(())
}

fn item(s: &ItemSpec) -> Item {
    let meta = Meta {
        format: s.format.clone(),
        type_: s.mime.clone(),
        size: s.size,
        ..Meta::default()
    };
    Item {
        target: s.target.clone().map(Location::uri),
        source: s.source.clone().map(Location::uri),
        meta: (!meta.is_empty()).then_some(meta),
        data: s.data.clone().map(Data::Text),
        more_data: s.more_data,
    }
}

/// UI alert items: options, then the text, then the choices (reference §1.7).
fn alert_items(s: &AlertSpec) -> Vec<Item> {
    let Some(text) = &s.text else {
        return Vec::new();
    };
    let data = |t: &str| Item {
        data: Some(Data::Text(t.to_string())),
        ..Item::default()
    };
    let mut items = vec![data(&s.options), data(text)];
    items.extend(s.choices.iter().map(|c| data(c)));
    items
}

fn container(cmd_id: String, s: &ContainerSpec, next_id: &mut u32) -> Container {
    Container {
        cmd_id,
        no_resp: false,
        meta: None,
        commands: s.commands.iter().map(|c| c.to_command(next_id)).collect(),
    }
}
