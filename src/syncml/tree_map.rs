//! The element tree → [`SyncMl`] mapping that both decoders share, so that XML and WBXML cannot
//! drift apart: each codec parses its bytes into a flat tree of named elements with text, and this
//! module maps the tree to the model.
//!
//! The mapping is lenient where real implementations differ (child order, unknown elements, namespace
//! of MetInf elements) and strict where the meaning of the message would change (missing required
//! elements, duplicated single elements, codes that are not numbers, a command named with what is
//! not an XML name, which one of the encoders could not write back). Nothing in it recurses on the
//! input except Atomic/Sequence, whose nesting is capped at [`MAX_NESTING`].
//!
//! [`order_notes`] reports, without failing, the children it read out of the schema order (see
//! [`super::notes`]); it walks the tree with an explicit stack.

use std::str::FromStr;

use super::notes::{self, DecodeNote, NoteKind};

use super::xml::MAX_NESTING;
use super::{
    Alert, AlertCode, Chal, CmdName, Command, Container, Cred, Data, Delete, Exec, Get, Item,
    ItemCommand, Location, Meta, Results, Status, StatusCode, SyncBody, SyncHdr, SyncMl,
    UnknownCommand,
};

/// Index of an element in a tree.
pub(super) type NodeId = usize;

/// Why a tree does not map to a message; each codec turns it into its own error, at the element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MapErrorKind {
    /// A required child element is missing.
    MissingElement(&'static str),
    /// An element that may appear once appears again.
    DuplicateElement(String),
    /// A code or size is not a decimal number in range.
    InvalidNumber {
        element: &'static str,
        value: String,
    },
    /// Atomic/Sequence nested deeper than [`MAX_NESTING`].
    TooDeep,
    /// A command's element name that is not an XML NCName (see [`is_nc_name`]).
    InvalidCommandName(String),
}

/// A parsed document: elements by local name, linked parent → children, with their text.
pub(super) trait ElementTree {
    /// The codec's error type.
    type Error;

    /// Local name (no namespace prefix).
    fn name(&self, id: NodeId) -> &str;
    fn parent(&self, id: NodeId) -> Option<NodeId>;
    fn first_child(&self, id: NodeId) -> Option<NodeId>;
    fn next_sibling(&self, id: NodeId) -> Option<NodeId>;
    /// Character data before the first child element, unescaped and untrimmed.
    fn text(&self, id: NodeId) -> &str;
    /// The element's text, or its inner XML when it has child elements.
    fn content(&self, id: NodeId) -> &str;
    /// An error about element `id`.
    fn error(&self, id: NodeId, kind: MapErrorKind) -> Self::Error;

    /// Element `id` as received, for a note: by default rendered from the tree, `<Name>text</Name>`
    /// (`…` for child elements); the XML tree gives its source text. Cut by [`notes::excerpt`].
    fn excerpt(&self, id: NodeId) -> String {
        let name = self.name(id);
        let inner = match self.first_child(id) {
            Some(_) => "…".to_string(),
            None => {
                let mut text = String::new();
                super::xml::push_escaped(&mut text, self.text(id));
                text
            }
        };
        notes::excerpt(&format!("<{name}>{inner}</{name}>"))
    }

    /// The `Data` of an `Item`: its verbatim content as text unless the codec knows better.
    fn data(&self, id: NodeId) -> Data {
        Data::Text(self.content(id).to_string())
    }

    fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.first_child(id), |&c| self.next_sibling(c))
    }

    /// `SyncML/SyncBody/Status[2]/Data`: local names, indexed where a name repeats among siblings.
    fn path(&self, id: NodeId) -> String {
        let mut steps: Vec<String> = std::iter::successors(Some(id), |&n| self.parent(n))
            .map(|n| self.step(n))
            .collect();
        steps.reverse();
        steps.join("/")
    }

    /// One step of [`ElementTree::path`].
    fn step(&self, id: NodeId) -> String {
        let name = self.name(id);
        let Some(parent) = self.parent(id) else {
            return name.to_string();
        };
        let mut same = self.children(parent).filter(|&c| self.name(c) == name);
        let index = same.by_ref().position(|c| c == id);
        let count = index.map_or(0, |i| i + 1) + same.count();
        match index {
            Some(i) if count > 1 => format!("{name}[{}]", i + 1),
            _ => name.to_string(),
        }
    }
}

/// Paths of many elements of one tree ([`ElementTree::path`]) in time linear in the tree: the step
/// of every child of a parent is worked out in one pass over its children, and kept.
#[derive(Default)]
pub(super) struct Paths {
    steps: std::collections::HashMap<NodeId, String>,
}

impl Paths {
    /// The path of element `id`.
    pub(super) fn of<T: ElementTree + ?Sized>(&mut self, tree: &T, id: NodeId) -> String {
        let mut steps: Vec<String> = Vec::new();
        for n in std::iter::successors(Some(id), |&n| tree.parent(n)) {
            if !self.steps.contains_key(&n) {
                self.learn(tree, n);
            }
            steps.push(self.steps.get(&n).cloned().unwrap_or_default());
        }
        steps.reverse();
        steps.join("/")
    }

    /// The steps of `id` and all its siblings.
    fn learn<T: ElementTree + ?Sized>(&mut self, tree: &T, id: NodeId) {
        let Some(parent) = tree.parent(id) else {
            self.steps.insert(id, tree.name(id).to_string());
            return;
        };
        let mut count: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for c in tree.children(parent) {
            *count.entry(tree.name(c)).or_default() += 1;
        }
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for c in tree.children(parent) {
            let name = tree.name(c);
            let n = seen.entry(name).or_default();
            *n += 1;
            let step = match count.get(name) {
                Some(&total) if total > 1 => format!("{name}[{n}]"),
                _ => name.to_string(),
            };
            self.steps.insert(c, step);
        }
    }
}

/// Map the tree whose root element (named `SyncML`) is `root` to a message.
pub(super) fn sync_ml<T: ElementTree + ?Sized>(tree: &T, root: NodeId) -> Result<SyncMl, T::Error> {
    Mapper { tree }.sync_ml(root)
}

/// The children of the elements whose order reference §1.2 gives (the SyncML RepPro DTD), rank by
/// rank; [`ANY`] stands for any other element (the commands of a SyncBody, an Atomic, a
/// Sequence). A child that is not named, where there is no [`ANY`], is not checked.
fn schema_order(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "SyncML" => &["SyncHdr", "SyncBody"],
        "SyncHdr" => &[
            "VerDTD",
            "VerProto",
            "SessionID",
            "MsgID",
            "Target",
            "Source",
            "RespURI",
            "NoResp",
            "Cred",
            "Meta",
        ],
        "SyncBody" => &[ANY, "Final"],
        "Target" | "Source" => &["LocURI", "LocName"],
        "Cred" => &["Meta", "Data"],
        "Chal" => &["Meta"],
        "Status" => &[
            "CmdID",
            "MsgRef",
            "CmdRef",
            "Cmd",
            "TargetRef",
            "SourceRef",
            "Cred",
            "Chal",
            "Data",
            "Item",
        ],
        "Results" => &[
            "CmdID",
            "MsgRef",
            "CmdRef",
            "Meta",
            "TargetRef",
            "SourceRef",
            "Item",
        ],
        "Alert" => &["CmdID", "NoResp", "Cred", "Data", "Correlator", "Item"],
        "Add" | "Replace" | "Copy" => &["CmdID", "NoResp", "Cred", "Meta", "Item"],
        "Delete" => &[
            "CmdID", "NoResp", "Archive", "SftDel", "Cred", "Meta", "Item",
        ],
        "Exec" => &["CmdID", "NoResp", "Cred", "Meta", "Correlator", "Item"],
        "Get" => &["CmdID", "NoResp", "Lang", "Cred", "Meta", "Item"],
        "Atomic" | "Sequence" => &["CmdID", "NoResp", "Meta", ANY],
        "Item" => &[
            "Target",
            "Source",
            "TargetParent",
            "SourceParent",
            "Meta",
            "Data",
            "MoreData",
        ],
        _ => return None,
    })
}

/// Whether reference §1.2 gives the order of `name`'s children: the SyncML elements that hold
/// other SyncML elements (not `Data`, not `Meta`, not a command DM does not define).
pub(super) fn has_schema(name: &str) -> bool {
    schema_order(name).is_some()
}

/// In [`schema_order`]: any element not named in the list.
const ANY: &str = "*";

/// The rank of `child` in `order`, if the order says anything about it.
fn rank(order: &[&str], child: &str) -> Option<usize> {
    order
        .iter()
        .position(|&n| n == child)
        .or_else(|| order.iter().position(|&n| n == ANY))
}

/// `order` in words: `CmdID, MsgRef, …`, [`ANY`] as `commands`.
fn order_text(order: &[&str]) -> String {
    order
        .iter()
        .map(|&n| if n == ANY { "commands" } else { n })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The children of the tree under `root` that come out of the schema order (reference §1.2): one
/// note per parent, at its first child that comes after one of a later rank, in document order,
/// each with the child's id. The content of `Data` and the MetInf children of `Meta` are not
/// looked into.
pub(super) fn order_notes<T: ElementTree + ?Sized>(
    tree: &T,
    root: NodeId,
) -> Vec<(NodeId, DecodeNote)> {
    let mut found = Vec::new();
    let mut paths = Paths::default();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let name = tree.name(id);
        let Some(order) = schema_order(name) else {
            continue;
        };
        let children: Vec<NodeId> = tree.children(id).collect();
        // The child of the highest rank so far: (rank, name).
        let mut highest: Option<(usize, &str)> = None;
        for &c in &children {
            let child = tree.name(c);
            let Some(r) = rank(order, child) else {
                continue;
            };
            match highest {
                Some((top, before)) if r < top => {
                    found.push((c, DecodeNote {
                        kind: NoteKind::ElementOrder,
                        path: paths.of(tree, c),
                        detail: format!(
                            "{child} comes after {before} in {name}, whose children go in the order {} (reference §1.2)",
                            order_text(order)
                        ),
                        excerpt: tree.excerpt(c),
                    }));
                    break;
                }
                Some((top, _)) if r == top => {}
                _ => highest = Some((r, child)),
            }
        }
        stack.extend(children.into_iter().rev());
    }
    found
}

/// Trim XML whitespace (space, tab, line feed, carriage return).
fn trim_xml(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r'])
}

/// The mapping, over one tree.
struct Mapper<'t, T: ?Sized> {
    tree: &'t T,
}

impl<'t, T: ElementTree + ?Sized> Mapper<'t, T> {
    fn name(&self, id: NodeId) -> &'t str {
        self.tree.name(id)
    }

    fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + 't {
        self.tree.children(id)
    }

    fn error(&self, id: NodeId, kind: MapErrorKind) -> T::Error {
        self.tree.error(id, kind)
    }
}

/// The children most commands share, collected in one pass in any order.
#[derive(Default)]
struct CommandParts {
    cmd_id: Option<NodeId>,
    no_resp: bool,
    cred: Option<NodeId>,
    meta: Option<NodeId>,
    items: Vec<Item>,
}

impl<'t, T: ElementTree + ?Sized> Mapper<'t, T> {
    fn sync_ml(&self, id: NodeId) -> Result<SyncMl, T::Error> {
        let (mut hdr, mut body) = (None, None);
        for c in self.children(id) {
            match self.name(c) {
                "SyncHdr" => self.once(&mut hdr, c)?,
                "SyncBody" => self.once(&mut body, c)?,
                _ => {}
            }
        }
        Ok(SyncMl {
            hdr: self.sync_hdr(self.required(id, hdr, "SyncHdr")?)?,
            body: self.sync_body(self.required(id, body, "SyncBody")?)?,
        })
    }

    fn sync_hdr(&self, id: NodeId) -> Result<SyncHdr, T::Error> {
        let (mut ver_dtd, mut ver_proto, mut session_id, mut msg_id) = (None, None, None, None);
        let (mut target, mut source, mut resp_uri, mut cred, mut meta) =
            (None, None, None, None, None);
        let mut no_resp = false;
        for c in self.children(id) {
            match self.name(c) {
                "VerDTD" => self.once(&mut ver_dtd, c)?,
                "VerProto" => self.once(&mut ver_proto, c)?,
                "SessionID" => self.once(&mut session_id, c)?,
                "MsgID" => self.once(&mut msg_id, c)?,
                "Target" => self.once(&mut target, c)?,
                "Source" => self.once(&mut source, c)?,
                "RespURI" => self.once(&mut resp_uri, c)?,
                "NoResp" => no_resp = true,
                "Cred" => self.once(&mut cred, c)?,
                "Meta" => self.once(&mut meta, c)?,
                _ => {}
            }
        }
        Ok(SyncHdr {
            ver_dtd: self.required_text(id, ver_dtd, "VerDTD")?,
            ver_proto: self.required_text(id, ver_proto, "VerProto")?,
            session_id: self.required_text(id, session_id, "SessionID")?,
            msg_id: self.required_text(id, msg_id, "MsgID")?,
            target: self.location(self.required(id, target, "Target")?)?,
            source: self.location(self.required(id, source, "Source")?)?,
            resp_uri: self.opt_text(resp_uri),
            no_resp,
            cred: self.opt_cred(cred)?,
            meta: self.opt_meta(meta)?,
        })
    }

    fn sync_body(&self, id: NodeId) -> Result<SyncBody, T::Error> {
        let mut body = SyncBody::default();
        for c in self.children(id) {
            match self.name(c) {
                "Final" => body.final_flag = true,
                _ => body.commands.push(self.command(c, 0)?),
            }
        }
        Ok(body)
    }

    /// A command element; `depth` is the number of Atomic/Sequence around it.
    fn command(&self, id: NodeId, depth: usize) -> Result<Command, T::Error> {
        Ok(match self.name(id) {
            "Add" => Command::Add(self.item_command(id)?),
            "Replace" => Command::Replace(self.item_command(id)?),
            "Copy" => Command::Copy(self.item_command(id)?),
            "Delete" => Command::Delete(self.delete(id)?),
            "Get" => Command::Get(self.get(id)?),
            "Exec" => Command::Exec(self.exec(id)?),
            "Alert" => Command::Alert(self.alert(id)?),
            "Atomic" => Command::Atomic(self.container(id, depth + 1)?),
            "Sequence" => Command::Sequence(self.container(id, depth + 1)?),
            "Status" => Command::Status(self.status(id)?),
            "Results" => Command::Results(self.results(id)?),
            _ => Command::Unknown(self.unknown(id)?),
        })
    }

    /// Collect the shared command children; every other child goes to `other`.
    fn command_parts(
        &self,
        id: NodeId,
        mut other: impl FnMut(&str, NodeId) -> Result<(), T::Error>,
    ) -> Result<CommandParts, T::Error> {
        let mut parts = CommandParts::default();
        for c in self.children(id) {
            match self.name(c) {
                "CmdID" => self.once(&mut parts.cmd_id, c)?,
                "NoResp" => parts.no_resp = true,
                "Cred" => self.once(&mut parts.cred, c)?,
                "Meta" => self.once(&mut parts.meta, c)?,
                "Item" => parts.items.push(self.item(c)?),
                name => other(name, c)?,
            }
        }
        Ok(parts)
    }

    fn item_command(&self, id: NodeId) -> Result<ItemCommand, T::Error> {
        let parts = self.command_parts(id, |_, _| Ok(()))?;
        Ok(ItemCommand {
            cmd_id: self.required_text(id, parts.cmd_id, "CmdID")?,
            no_resp: parts.no_resp,
            cred: self.opt_cred(parts.cred)?,
            meta: self.opt_meta(parts.meta)?,
            items: parts.items,
        })
    }

    fn delete(&self, id: NodeId) -> Result<Delete, T::Error> {
        let (mut archive, mut sft_del) = (false, false);
        let parts = self.command_parts(id, |name, _| {
            match name {
                "Archive" => archive = true,
                "SftDel" => sft_del = true,
                _ => {}
            }
            Ok(())
        })?;
        Ok(Delete {
            cmd_id: self.required_text(id, parts.cmd_id, "CmdID")?,
            no_resp: parts.no_resp,
            archive,
            sft_del,
            cred: self.opt_cred(parts.cred)?,
            meta: self.opt_meta(parts.meta)?,
            items: parts.items,
        })
    }

    fn get(&self, id: NodeId) -> Result<Get, T::Error> {
        let mut lang = None;
        let parts = self.command_parts(id, |name, c| match name {
            "Lang" => self.once(&mut lang, c),
            _ => Ok(()),
        })?;
        Ok(Get {
            cmd_id: self.required_text(id, parts.cmd_id, "CmdID")?,
            no_resp: parts.no_resp,
            lang: self.opt_text(lang),
            cred: self.opt_cred(parts.cred)?,
            meta: self.opt_meta(parts.meta)?,
            items: parts.items,
        })
    }

    fn exec(&self, id: NodeId) -> Result<Exec, T::Error> {
        let mut correlator = None;
        let parts = self.command_parts(id, |name, c| match name {
            "Correlator" => self.once(&mut correlator, c),
            _ => Ok(()),
        })?;
        Ok(Exec {
            cmd_id: self.required_text(id, parts.cmd_id, "CmdID")?,
            no_resp: parts.no_resp,
            cred: self.opt_cred(parts.cred)?,
            meta: self.opt_meta(parts.meta)?,
            correlator: self.opt_text(correlator),
            items: parts.items,
        })
    }

    fn alert(&self, id: NodeId) -> Result<Alert, T::Error> {
        let (mut data, mut correlator) = (None, None);
        let parts = self.command_parts(id, |name, c| match name {
            "Data" => self.once(&mut data, c),
            "Correlator" => self.once(&mut correlator, c),
            _ => Ok(()),
        })?;
        Ok(Alert {
            cmd_id: self.required_text(id, parts.cmd_id, "CmdID")?,
            no_resp: parts.no_resp,
            cred: self.opt_cred(parts.cred)?,
            code: AlertCode::from_code(self.number(self.required(id, data, "Data")?, "Data")?),
            correlator: self.opt_text(correlator),
            items: parts.items,
        })
    }

    fn status(&self, id: NodeId) -> Result<Status, T::Error> {
        let (mut msg_ref, mut cmd_ref, mut cmd, mut chal, mut data) =
            (None, None, None, None, None);
        let (mut target_refs, mut source_refs) = (Vec::new(), Vec::new());
        let parts = self.command_parts(id, |name, c| match name {
            "MsgRef" => self.once(&mut msg_ref, c),
            "CmdRef" => self.once(&mut cmd_ref, c),
            "Cmd" => self.once(&mut cmd, c),
            "Chal" => self.once(&mut chal, c),
            "Data" => self.once(&mut data, c),
            "TargetRef" => {
                target_refs.push(self.text(c));
                Ok(())
            }
            "SourceRef" => {
                source_refs.push(self.text(c));
                Ok(())
            }
            _ => Ok(()),
        })?;
        Ok(Status {
            cmd_id: self.required_text(id, parts.cmd_id, "CmdID")?,
            msg_ref: self.required_text(id, msg_ref, "MsgRef")?,
            cmd_ref: self.required_text(id, cmd_ref, "CmdRef")?,
            cmd: CmdName::parse(self.trimmed(self.required(id, cmd, "Cmd")?)),
            target_refs,
            source_refs,
            cred: self.opt_cred(parts.cred)?,
            chal: chal.map(|c| self.chal(c)).transpose()?,
            code: StatusCode::from_code(self.number(self.required(id, data, "Data")?, "Data")?),
            items: parts.items,
        })
    }

    fn results(&self, id: NodeId) -> Result<Results, T::Error> {
        let (mut msg_ref, mut cmd_ref, mut target_ref, mut source_ref) = (None, None, None, None);
        let parts = self.command_parts(id, |name, c| match name {
            "MsgRef" => self.once(&mut msg_ref, c),
            "CmdRef" => self.once(&mut cmd_ref, c),
            "TargetRef" => self.once(&mut target_ref, c),
            "SourceRef" => self.once(&mut source_ref, c),
            _ => Ok(()),
        })?;
        Ok(Results {
            cmd_id: self.required_text(id, parts.cmd_id, "CmdID")?,
            msg_ref: self.opt_text(msg_ref),
            cmd_ref: self.required_text(id, cmd_ref, "CmdRef")?,
            meta: self.opt_meta(parts.meta)?,
            target_ref: self.opt_text(target_ref),
            source_ref: self.opt_text(source_ref),
            items: parts.items,
        })
    }

    /// Atomic or Sequence: every child that is not CmdID, NoResp or Meta is a command.
    fn container(&self, id: NodeId, depth: usize) -> Result<Container, T::Error> {
        if depth > MAX_NESTING {
            return Err(self.error(id, MapErrorKind::TooDeep));
        }
        let (mut cmd_id, mut meta) = (None, None);
        let mut container = Container::default();
        for c in self.children(id) {
            match self.name(c) {
                "CmdID" => self.once(&mut cmd_id, c)?,
                "NoResp" => container.no_resp = true,
                "Meta" => self.once(&mut meta, c)?,
                _ => container.commands.push(self.command(c, depth)?),
            }
        }
        container.cmd_id = self.required_text(id, cmd_id, "CmdID")?;
        container.meta = self.opt_meta(meta)?;
        Ok(container)
    }

    /// A command DM does not define: its name and CmdID (empty when absent). The name is kept, so
    /// it must be one both encoders can write back as the same name: an XML NCName.
    fn unknown(&self, id: NodeId) -> Result<UnknownCommand, T::Error> {
        let name = self.name(id);
        if !is_nc_name(name) {
            return Err(self.error(id, MapErrorKind::InvalidCommandName(name.to_string())));
        }
        let cmd_id = self.children(id).find(|&c| self.name(c) == "CmdID");
        Ok(UnknownCommand {
            name: name.to_string(),
            cmd_id: self.opt_text(cmd_id).unwrap_or_default(),
        })
    }

    fn item(&self, id: NodeId) -> Result<Item, T::Error> {
        let (mut target, mut source, mut meta, mut data) = (None, None, None, None);
        let mut more_data = false;
        for c in self.children(id) {
            match self.name(c) {
                "Target" => self.once(&mut target, c)?,
                "Source" => self.once(&mut source, c)?,
                "Meta" => self.once(&mut meta, c)?,
                "Data" => self.once(&mut data, c)?,
                "MoreData" => more_data = true,
                _ => {}
            }
        }
        Ok(Item {
            target: target.map(|c| self.location(c)).transpose()?,
            source: source.map(|c| self.location(c)).transpose()?,
            meta: self.opt_meta(meta)?,
            data: data.map(|c| self.tree.data(c)),
            more_data,
        })
    }

    fn location(&self, id: NodeId) -> Result<Location, T::Error> {
        let (mut loc_uri, mut loc_name) = (None, None);
        for c in self.children(id) {
            match self.name(c) {
                "LocURI" => self.once(&mut loc_uri, c)?,
                "LocName" => self.once(&mut loc_name, c)?,
                _ => {}
            }
        }
        Ok(Location {
            loc_uri: self.required_text(id, loc_uri, "LocURI")?,
            loc_name: self.opt_text(loc_name),
        })
    }

    fn opt_cred(&self, id: Option<NodeId>) -> Result<Option<Cred>, T::Error> {
        let Some(id) = id else { return Ok(None) };
        let (mut meta, mut data) = (None, None);
        for c in self.children(id) {
            match self.name(c) {
                "Meta" => self.once(&mut meta, c)?,
                "Data" => self.once(&mut data, c)?,
                _ => {}
            }
        }
        Ok(Some(Cred {
            meta: self.opt_meta(meta)?,
            data: self.data_text(self.required(id, data, "Data")?),
        }))
    }

    fn chal(&self, id: NodeId) -> Result<Chal, T::Error> {
        let mut meta = None;
        for c in self.children(id) {
            if self.name(c) == "Meta" {
                self.once(&mut meta, c)?;
            }
        }
        Ok(Chal {
            meta: self.meta(self.required(id, meta, "Meta")?)?,
        })
    }

    /// An optional Meta; an empty one counts as absent (the encoder omits empty Meta).
    fn opt_meta(&self, id: Option<NodeId>) -> Result<Option<Meta>, T::Error> {
        let Some(id) = id else { return Ok(None) };
        let meta = self.meta(id)?;
        Ok((!meta.is_empty()).then_some(meta))
    }

    /// `Meta`: MetInf elements matched by local name, with or without a namespace.
    fn meta(&self, id: NodeId) -> Result<Meta, T::Error> {
        let (mut format, mut type_, mut mark, mut size, mut next_nonce) =
            (None, None, None, None, None);
        let (mut version, mut max_msg_size, mut max_obj_size) = (None, None, None);
        let mut emi = Vec::new();
        for c in self.children(id) {
            match self.name(c) {
                "Format" => self.once(&mut format, c)?,
                "Type" => self.once(&mut type_, c)?,
                "Mark" => self.once(&mut mark, c)?,
                "Size" => self.once(&mut size, c)?,
                "NextNonce" => self.once(&mut next_nonce, c)?,
                "Version" => self.once(&mut version, c)?,
                "MaxMsgSize" => self.once(&mut max_msg_size, c)?,
                "MaxObjSize" => self.once(&mut max_obj_size, c)?,
                "EMI" => emi.push(self.text(c)),
                _ => {}
            }
        }
        Ok(Meta {
            format: self.opt_text(format),
            type_: self.opt_text(type_),
            mark: self.opt_text(mark),
            size: self.opt_number(size, "Size")?,
            next_nonce: self.opt_text(next_nonce),
            version: self.opt_text(version),
            max_msg_size: self.opt_number(max_msg_size, "MaxMsgSize")?,
            max_obj_size: self.opt_number(max_obj_size, "MaxObjSize")?,
            emi,
        })
    }

    /// Record the single occurrence of an element; a second one is an error.
    fn once(&self, slot: &mut Option<NodeId>, id: NodeId) -> Result<(), T::Error> {
        match slot.replace(id) {
            None => Ok(()),
            Some(_) => Err(self.error(
                id,
                MapErrorKind::DuplicateElement(self.name(id).to_string()),
            )),
        }
    }

    /// A required child of `parent`, or [`MapErrorKind::MissingElement`] at `parent`.
    fn required(
        &self,
        parent: NodeId,
        child: Option<NodeId>,
        name: &'static str,
    ) -> Result<NodeId, T::Error> {
        child.ok_or_else(|| self.error(parent, MapErrorKind::MissingElement(name)))
    }

    fn required_text(
        &self,
        parent: NodeId,
        child: Option<NodeId>,
        name: &'static str,
    ) -> Result<String, T::Error> {
        Ok(self.text(self.required(parent, child, name)?))
    }

    fn opt_text(&self, id: Option<NodeId>) -> Option<String> {
        id.map(|id| self.text(id))
    }

    /// The trimmed text of a leaf element.
    fn text(&self, id: NodeId) -> String {
        self.trimmed(id).to_string()
    }

    fn trimmed(&self, id: NodeId) -> &'t str {
        trim_xml(self.tree.text(id))
    }

    /// The verbatim content of a `Data`: its text, or its inner XML when it has child elements.
    fn data_text(&self, id: NodeId) -> String {
        self.tree.content(id).to_string()
    }

    /// The decimal number in an element (surrounding whitespace allowed).
    fn number<N: FromStr>(&self, id: NodeId, element: &'static str) -> Result<N, T::Error> {
        let text = trim_xml(self.tree.content(id));
        // An element with child elements is not a number whatever its text (the XML tree's content
        // then holds markup; the WBXML tree keeps children as nodes).
        let digits = self.tree.first_child(id).is_none()
            && !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit());
        match text.parse() {
            Ok(n) if digits => Ok(n),
            _ => Err(self.error(
                id,
                MapErrorKind::InvalidNumber {
                    element,
                    value: text.to_string(),
                },
            )),
        }
    }

    fn opt_number<N: FromStr>(
        &self,
        id: Option<NodeId>,
        element: &'static str,
    ) -> Result<Option<N>, T::Error> {
        id.map(|id| self.number(id, element)).transpose()
    }
}

/// Whether `name` is an XML NCName (Namespaces in XML 1.0 §3: an XML 1.0 Name without `:`), the
/// only element names both codecs carry unchanged: XML reads a name up to whitespace, `/` or `>`
/// and drops a prefix before `:`, and WBXML keeps a LITERAL's name in its string table, which a
/// NUL ends. quick-xml and the WBXML string table both give names that are none of these.
pub(super) fn is_nc_name(name: &str) -> bool {
    fn start(c: char) -> bool {
        matches!(c,
            'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    }
    fn rest(c: char) -> bool {
        start(c)
            || matches!(c,
                '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    }
    let mut chars = name.chars();
    chars.next().is_some_and(start) && chars.all(rest)
}
