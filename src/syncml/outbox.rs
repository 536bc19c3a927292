//! Packages over several messages: what a sender still has to send, cut to the peer's MaxMsgSize.
//!
//! An [`Outbox`] holds the commands of a package in order. [`Outbox::fill`] moves as many as fit into
//! a message, measured with the encoding in use. A command with several items that does not fit is
//! split into commands with fewer items; a single item that does not fit is sent as a large object
//! (reference §1.6): its Data is cut into chunks, every chunk but the last carries `MoreData`, and the
//! first one carries the total size in `Meta/Size` (the byte length of the Data as transmitted). An
//! item for which the message has no room left, not even for a first chunk, starts in the next one.
//! Whatever cannot be cut (a Status, a command without data) goes alone in a message even if it is
//! too big: the peer then answers as it must (413).

#[cfg(test)]
use super::Encoding;
use super::{Command, Data, Item, Meta, SyncMl};
use std::collections::VecDeque;

/// A package's commands waiting to be sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    queue: VecDeque<Entry>,
}

/// A queued command; `continued` when it is the rest of a large object whose first chunk (with
/// the total size) has gone already.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    cmd: Command,
    continued: bool,
}

impl Outbox {
    /// Queue commands at the end of the package.
    pub fn extend(&mut self, commands: impl IntoIterator<Item = Command>) {
        self.queue.extend(commands.into_iter().map(|cmd| Entry {
            cmd,
            continued: false,
        }));
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Drop everything still queued.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// Move queued commands into `msg` while its encoded size stays within `max_size`; a limit of 0
    /// means unlimited. Returns true when commands remain for later messages.
    pub fn fill(
        &mut self,
        msg: &mut SyncMl,
        max_size: usize,
        measure: &dyn Fn(&SyncMl) -> usize,
    ) -> bool {
        if self.queue.is_empty() {
            return false;
        }
        let start = msg.body.commands.len();
        msg.body
            .commands
            .extend(self.queue.iter().map(|e| e.cmd.clone()));
        if max_size == 0 || measure(msg) <= max_size {
            self.queue.clear();
            return false;
        }
        msg.body.commands.truncate(start);
        let mut added = 0;
        while let Some(entry) = self.queue.pop_front() {
            msg.body.commands.push(entry.cmd.clone());
            if measure(msg) <= max_size {
                added += 1;
                continue;
            }
            msg.body.commands.pop();
            match split(entry, msg, max_size, measure) {
                Split::Parts(first, rest) => {
                    msg.body.commands.push(first);
                    self.queue.push_front(rest);
                    break;
                }
                Split::Requeue(first, rest) => {
                    self.queue.push_front(rest);
                    self.queue.push_front(first);
                }
                // Something that cannot be cut and would not fit even beside the leading
                // commands goes now, too big as it is: waiting would never make it fit.
                Split::Whole(entry)
                    if added == 0 || !fits_alone(msg, start, &entry, max_size, measure) =>
                {
                    msg.body.commands.push(entry.cmd);
                    break;
                }
                Split::Whole(entry) => {
                    self.queue.push_front(entry);
                    break;
                }
                // A large object with no room left here for even a first chunk: it starts in the
                // next message, where it will have the room. Only when nothing was added (the room
                // is all taken by the leading commands) does it go now, too big as it is.
                Split::NoRoom(entry) if added > 0 => {
                    self.queue.push_front(entry);
                    break;
                }
                Split::NoRoom(entry) => {
                    msg.body.commands.push(entry.cmd);
                    break;
                }
            }
        }
        !self.queue.is_empty()
    }
}

/// Whether `entry` fits in `msg` with only the commands it had before filling started.
fn fits_alone(
    msg: &SyncMl,
    start: usize,
    entry: &Entry,
    max_size: usize,
    measure: &dyn Fn(&SyncMl) -> usize,
) -> bool {
    let mut probe = SyncMl {
        hdr: msg.hdr.clone(),
        body: msg.body.clone(),
    };
    probe.body.commands.truncate(start);
    probe.body.commands.push(entry.cmd.clone());
    measure(&probe) <= max_size
}

enum Split {
    /// What fits now, and the rest for the next message.
    Parts(Command, Entry),
    /// Items split apart: try again with the first part alone.
    Requeue(Entry, Entry),
    /// It cannot be cut to fit the room left.
    Whole(Entry),
    /// It could be sent in chunks, but this message has no room left for a first one.
    NoRoom(Entry),
}

/// Cut a command that does not fit in `msg`.
fn split(
    entry: Entry,
    msg: &mut SyncMl,
    max_size: usize,
    measure: &dyn Fn(&SyncMl) -> usize,
) -> Split {
    let n = entry.cmd.items().len();
    if n <= 1 || matches!(entry.cmd, Command::Status(_) | Command::Alert(_)) {
        return chunk(entry, msg, max_size, measure);
    }
    // Keep the longest prefix of items that fits; if not even one does, try that one alone.
    for keep in (1..n).rev() {
        let (first, rest) = split_items(&entry.cmd, keep);
        msg.body.commands.push(first);
        let fits = measure(msg) <= max_size;
        if let (true, Some(first)) = (fits, msg.body.commands.pop()) {
            return Split::Parts(
                first,
                Entry {
                    cmd: rest,
                    continued: false,
                },
            );
        }
    }
    let (first, rest) = split_items(&entry.cmd, 1);
    Split::Requeue(
        Entry {
            cmd: first,
            continued: entry.continued,
        },
        Entry {
            cmd: rest,
            continued: false,
        },
    )
}

/// The command with its first `keep` items, and the same command with the others.
fn split_items(cmd: &Command, keep: usize) -> (Command, Command) {
    let mut first = cmd.clone();
    let mut rest = cmd.clone();
    if let Some(items) = items_mut(&mut first) {
        items.truncate(keep);
    }
    if let Some(items) = items_mut(&mut rest) {
        items.drain(..keep);
    }
    (first, rest)
}

/// Send a single item's Data as a large object: the chunk that fits now, and the rest.
fn chunk(
    entry: Entry,
    msg: &mut SyncMl,
    max_size: usize,
    measure: &dyn Fn(&SyncMl) -> usize,
) -> Split {
    let Some(text) = single_item_text(&entry.cmd) else {
        return Split::Whole(entry);
    };
    let declared = single_item(&entry.cmd)
        .and_then(|i| i.meta.as_ref())
        .and_then(|m| m.size);
    let size = (!entry.continued).then(|| declared.unwrap_or(text.len() as u64));
    let mut probe = entry.cmd.clone();
    set_chunk(&mut probe, String::new(), true, size);
    msg.body.commands.push(probe);
    let overhead = measure(msg);
    msg.body.commands.pop();
    let room = max_size.saturating_sub(overhead);
    let mut cut = prefix_fitting(&text, room);
    if cut == 0 && !text.is_empty() {
        return Split::NoRoom(entry);
    }
    if cut == 0 || cut >= text.len() {
        return Split::Whole(entry);
    }
    // The room was reckoned with empty Data; an encoding may cost more for Data with text (WBXML
    // writes an empty element as a bare tag), so the chunk is measured and cut shorter until the
    // message fits.
    let mut first = entry.cmd.clone();
    loop {
        set_chunk(&mut first, text[..cut].to_string(), true, size);
        msg.body.commands.push(first);
        let over = measure(msg).saturating_sub(max_size);
        first = msg.body.commands.pop().unwrap_or_else(|| entry.cmd.clone());
        if over == 0 {
            break;
        }
        cut = floor_char_boundary(&text, cut.saturating_sub(over));
        if cut == 0 {
            return Split::NoRoom(entry);
        }
    }
    let mut rest = entry.cmd;
    set_chunk(&mut rest, text[cut..].to_string(), false, None);
    Split::Parts(
        first,
        Entry {
            cmd: rest,
            continued: true,
        },
    )
}

/// The largest char boundary of `text` at or below `index`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    (0..=index.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// The longest prefix of `text` (on a char boundary) whose XML-escaped length fits in `room`.
fn prefix_fitting(text: &str, room: usize) -> usize {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        let cost = match c {
            '&' | '\r' => 5,
            '<' | '>' => 4,
            c => c.len_utf8(),
        };
        if used + cost > room {
            return i;
        }
        used += cost;
    }
    text.len()
}

fn items_mut(cmd: &mut Command) -> Option<&mut Vec<Item>> {
    match cmd {
        Command::Add(c) | Command::Replace(c) | Command::Copy(c) => Some(&mut c.items),
        Command::Delete(c) => Some(&mut c.items),
        Command::Get(c) => Some(&mut c.items),
        Command::Results(c) => Some(&mut c.items),
        Command::Status(c) => Some(&mut c.items),
        Command::Alert(c) => Some(&mut c.items),
        Command::Exec(_) | Command::Atomic(_) | Command::Sequence(_) | Command::Unknown(_) => None,
    }
}

fn single_item(cmd: &Command) -> Option<&Item> {
    match cmd.items() {
        [item] => Some(item),
        _ => None,
    }
}

/// The Data of the only item of a command that may carry a large object (Add, Replace, Results).
fn single_item_text(cmd: &Command) -> Option<String> {
    if !matches!(
        cmd,
        Command::Add(_) | Command::Replace(_) | Command::Results(_)
    ) {
        return None;
    }
    single_item(cmd)?
        .data
        .as_ref()
        .map(|d| d.as_text().into_owned())
}

fn set_chunk(cmd: &mut Command, data: String, more: bool, size: Option<u64>) {
    let Some(item) = items_mut(cmd).and_then(|items| items.first_mut()) else {
        return;
    };
    item.data = Some(Data::Text(data));
    item.more_data = more;
    let meta = item.meta.get_or_insert_with(Meta::default);
    meta.size = size;
    if meta.is_empty() {
        item.meta = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syncml::{
        CmdName, ItemCommand, Location, Results, Status, StatusCode, SyncBody, SyncHdr,
    };

    fn empty_msg() -> SyncMl {
        SyncMl {
            hdr: SyncHdr {
                ver_dtd: "1.2".into(),
                ver_proto: "DM/1.2".into(),
                session_id: "1".into(),
                msg_id: "1".into(),
                target: Location::uri("https://dm.example/dm"),
                source: Location::uri("IMEI:1"),
                resp_uri: None,
                no_resp: false,
                cred: None,
                meta: None,
            },
            body: SyncBody::default(),
        }
    }

    fn status(n: usize) -> Command {
        Command::Status(Status {
            cmd_id: String::new(),
            msg_ref: "1".into(),
            cmd_ref: n.to_string(),
            cmd: CmdName::Get,
            target_refs: vec![format!("./Vendor/Node{n}")],
            source_refs: Vec::new(),
            cred: None,
            chal: None,
            code: StatusCode::Ok,
            items: Vec::new(),
        })
    }

    fn results(data: &str, items: usize) -> Command {
        Command::Results(Results {
            cmd_ref: "2".into(),
            items: (0..items)
                .map(|n| Item {
                    source: Some(Location::uri(format!("./Vendor/N{n}"))),
                    data: Some(Data::Text(data.to_string())),
                    ..Item::default()
                })
                .collect(),
            ..Results::default()
        })
    }

    /// Send everything through messages of at most `max` bytes; each message's commands.
    fn drain(outbox: &mut Outbox, max: usize) -> Vec<Vec<Command>> {
        let mut messages = Vec::new();
        loop {
            let mut msg = empty_msg();
            let more = outbox.fill(&mut msg, max, &|m| Encoding::Xml.size(m));
            assert!(
                max == 0 || Encoding::Xml.size(&msg) <= max,
                "message of {} bytes over {max}",
                Encoding::Xml.size(&msg)
            );
            messages.push(msg.body.commands);
            if !more {
                return messages;
            }
            assert!(messages.len() < 100, "no progress");
        }
    }

    #[test]
    fn everything_goes_in_one_message_when_it_fits_or_there_is_no_limit() {
        let mut outbox = Outbox::default();
        outbox.extend((0..5).map(status));
        assert_eq!(drain(&mut outbox.clone(), 0).len(), 1);
        assert_eq!(
            drain(&mut outbox, 100_000),
            vec![(0..5).map(status).collect::<Vec<_>>()]
        );
        assert!(outbox.is_empty());
    }

    #[test]
    fn commands_are_spread_over_messages_in_order() {
        let mut outbox = Outbox::default();
        outbox.extend((0..20).map(status));
        let messages = drain(&mut outbox, 1200);
        assert!(messages.len() > 1);
        let all: Vec<Command> = messages.into_iter().flatten().collect();
        assert_eq!(all, (0..20).map(status).collect::<Vec<_>>());
    }

    #[test]
    fn a_large_item_goes_in_chunks_with_the_total_size_first() {
        let data = "x&<y".repeat(500);
        let mut outbox = Outbox::default();
        outbox.extend([results(&data, 1)]);
        let messages = drain(&mut outbox, 1000);
        assert!(messages.len() > 2);
        let items: Vec<&Item> = messages.iter().flatten().flat_map(|c| c.items()).collect();
        assert_eq!(
            items[0].meta.as_ref().and_then(|m| m.size),
            Some(data.len() as u64)
        );
        assert!(items[1..]
            .iter()
            .all(|i| i.meta.as_ref().and_then(|m| m.size).is_none()));
        let (last, chunks) = items.split_last().expect("chunks");
        assert!(chunks.iter().all(|i| i.more_data) && !last.more_data);
        let joined: String = items.iter().filter_map(|i| i.data_text()).collect();
        assert_eq!(joined, data);
    }

    #[test]
    fn a_large_item_with_no_room_left_waits_for_the_next_message_to_be_chunked() {
        // Whatever room the commands before it leave, a large item never makes a message go over
        // the limit: with no room for a chunk, it is chunked in the next message (drain checks).
        for max in (600..1400).step_by(3) {
            let mut outbox = Outbox::default();
            outbox.extend([status(0), status(1), results(&"y".repeat(900), 1)]);
            let messages = drain(&mut outbox, max);
            let items: Vec<&Item> = messages.iter().flatten().flat_map(|c| c.items()).collect();
            let joined: String = items.iter().filter_map(|i| i.data_text()).collect();
            assert_eq!(joined, "y".repeat(900), "max {max}");
        }
    }

    #[test]
    fn numbered_messages_stay_within_the_limit_in_either_encoding() {
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            for max in (500..1300).step_by(7) {
                let mut outbox = Outbox::default();
                outbox.extend((0..3).map(status));
                outbox.extend([results(&"z\u{e9}".repeat(400), 1), results("v", 12)]);
                let mut sent = 0;
                loop {
                    let mut msg = empty_msg();
                    let more = outbox.fill(&mut msg, max, &|m| encoding.size(m));
                    // Four-digit CmdIDs, the most the measure allows for.
                    for (n, cmd) in msg.body.commands.iter_mut().enumerate() {
                        *cmd.cmd_id_mut() = (1000 + n).to_string();
                    }
                    let bytes = encoding.encode(&msg).len();
                    assert!(bytes <= max, "{encoding:?}: {bytes} bytes over {max}");
                    sent += 1;
                    assert!(sent < 100, "no progress");
                    if !more {
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn many_items_are_split_between_commands_before_any_is_chunked() {
        let mut outbox = Outbox::default();
        outbox.extend([results("value", 30)]);
        let messages = drain(&mut outbox, 1200);
        assert!(messages.len() > 1);
        let items: Vec<&Item> = messages.iter().flatten().flat_map(|c| c.items()).collect();
        assert_eq!(items.len(), 30);
        assert!(items.iter().all(|i| !i.more_data));
    }

    #[test]
    fn what_cannot_be_cut_goes_alone() {
        let mut big = status(1);
        if let Command::Status(s) = &mut big {
            s.target_refs = vec!["./x".repeat(400)];
        }
        let mut outbox = Outbox::default();
        outbox.extend([status(0), big.clone(), status(2)]);
        // It would never fit, so waiting is no use: it goes now, too big as it is.
        let mut msg = empty_msg();
        assert!(outbox.fill(&mut msg, 600, &|m| Encoding::Xml.size(m)));
        assert_eq!(msg.body.commands, vec![status(0), big]);
        let mut msg = empty_msg();
        assert!(!outbox.fill(&mut msg, 600, &|m| Encoding::Xml.size(m)));
        assert_eq!(msg.body.commands, vec![status(2)]);
        let add = Command::Add(ItemCommand::default());
        assert!(
            single_item_text(&add).is_none(),
            "no item, nothing to chunk"
        );
    }
}
