//! Packages over several messages: what a sender still has to send, cut to the peer's MaxMsgSize.
//!
//! An [`Outbox`] holds the commands of a package in order. [`Outbox::fill`] moves as many as fit into
//! a message, measured with the encoding in use (the measure must be exact: see
//! [`super::Encoding::size`]). Room for `Final` is always kept, since whether a message ends its
//! package is only known once it is filled.
//!
//! A command that does not fit in the room left but would fit in a message of its own waits for
//! the next message: it is neither split nor chunked only because the current message is nearly
//! full. One that does not fit even in a message of its own is split: a command with several items
//! into commands with fewer items; a single item is sent as a large object (reference §1.6, DM
//! Protocol §2.2 "Large Object Handling": objects are split "into chunks that will fit within the
//! message"): its Data is cut into chunks, every chunk but the last carries `MoreData`, and the
//! first one carries the total size in `Meta/Size` (the byte length of the Data as transmitted).
//! Large objects go only to a peer that announced a MaxObjSize (the SyncHdr Meta by which a DM
//! client or server says it takes them, reference §1.3; a device shows the same in
//! `DevDetail/LrgObj`), and only when the object is no larger than it: to any other peer such an
//! item cannot be sent ([`TooBig`]).
//!
//! A message never goes over the limit. What cannot be cut (a Status, an Alert, a command without
//! data, an item whose Source and Meta alone leave no room for data) and does not fit even alone
//! beside the message's leading commands is refused with [`TooBig`]: a command must fit entirely
//! into one message (DM Protocol §2.1.1), so waiting would never make it fit, and the sender decides
//! what to do instead (the device aborts the session, see `session::client`).
//!
//! Cost: filling a message costs about the message, not the package. A command is only encoded
//! whole when its Data could fit (the bytes of its Data are a lower bound of its encoded size), and
//! a large object's Data is held once, shared, and sliced chunk by chunk ([`Tail`]), so sending an
//! object of N bytes in chunks of C costs O(N) in all, not O(N²/C).

#[cfg(test)]
use super::Encoding;
use super::{CmdName, Command, Data, Item, Meta, SyncMl};
use std::collections::VecDeque;
use std::sync::Arc;

/// What the peer said it takes, in the SyncHdr Meta of its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerLimits {
    /// Its MaxMsgSize; 0 when it gave none (no limit).
    pub max_msg: usize,
    /// Its MaxObjSize, when it gave one: it takes large objects up to that size.
    pub max_obj: Option<u64>,
}

impl PeerLimits {
    /// A peer with this MaxMsgSize that takes no large objects.
    pub fn messages_of(max_msg: usize) -> PeerLimits {
        PeerLimits {
            max_msg,
            max_obj: None,
        }
    }
}

/// A package's commands waiting to be sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    queue: VecDeque<Entry>,
}

/// A queued command; `continued` when it is the rest of a large object whose first chunk (with
/// the total size) has gone already.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The command; while a large object is being sent, its one item without the Data (which is
    /// in `tail`).
    cmd: Command,
    continued: bool,
    tail: Option<Tail>,
}

/// The Data of a large object being sent: the whole text, shared by every chunk cut from it, and
/// where the part still to send starts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tail {
    text: Arc<str>,
    from: usize,
}

impl Tail {
    fn rest(&self) -> &str {
        &self.text[self.from..]
    }
}

impl Entry {
    fn new(cmd: Command) -> Entry {
        Entry {
            cmd,
            continued: false,
            tail: None,
        }
    }

    /// The command as it would go whole: with its Data back in its item (for a large object
    /// already begun, its last chunk: the rest of the Data, without MoreData or Size).
    fn whole(&self) -> Command {
        let mut cmd = self.cmd.clone();
        match &self.tail {
            Some(tail) if self.continued => {
                set_chunk(&mut cmd, tail.rest().to_string(), false, None)
            }
            Some(tail) => {
                if let Some(item) = items_mut(&mut cmd).and_then(|items| items.first_mut()) {
                    item.data = Some(Data::Text(tail.rest().to_string()));
                }
            }
            None => {}
        }
        cmd
    }

    /// Bytes of Data the command carries: its encoded size is at least this, in either encoding
    /// (XML escapes only add to text, WBXML carries it as it is), so a command with more Data than
    /// a message may hold need not be encoded to know it does not fit.
    fn data_len(&self) -> usize {
        match &self.tail {
            Some(tail) => tail.rest().len(),
            None => self
                .cmd
                .items()
                .iter()
                .filter_map(|i| i.data.as_ref())
                .fold(0, |n, d| n.saturating_add(d.as_bytes().len())),
        }
    }
}

/// The next queued command cannot go in a message within the limit, not even alone beside the
/// message's leading commands and cut as far as it can be. It stays queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{command} needs a message of {needs} bytes, over the limit of {max}")]
pub struct TooBig {
    /// The command's name.
    pub command: CmdName,
    /// The size of the message with it (whole, or its smallest chunk).
    pub needs: usize,
    /// The limit.
    pub max: usize,
}

impl Outbox {
    /// Queue commands at the end of the package.
    pub fn extend(&mut self, commands: impl IntoIterator<Item = Command>) {
        self.queue.extend(commands.into_iter().map(Entry::new));
    }

    /// Queue commands before everything queued so far, in their order (e.g. Statuses that must
    /// come before the rest of a package).
    pub fn prepend(&mut self, commands: impl IntoIterator<Item = Command>) {
        let entries: Vec<Entry> = commands.into_iter().map(Entry::new).collect();
        for entry in entries.into_iter().rev() {
            self.queue.push_front(entry);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Stop sending the large object under way: its receiver refused a chunk of it (413, or any
    /// other error), so the chunks left would only be refused too (DM Protocol §2.2: an object the
    /// recipient cannot take is refused, not buffered). True when there was one.
    pub fn abandon_object(&mut self) -> bool {
        match self.queue.iter().position(|e| e.continued) {
            Some(i) => self.queue.remove(i).is_some(),
            None => false,
        }
    }

    /// Drop everything still queued.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// Move queued commands into `msg` while its encoded size, with `Final`, stays within the
    /// peer's MaxMsgSize (a limit of 0 means unlimited). Returns true when commands remain for
    /// later messages, and [`TooBig`] (with nothing added) when the next command cannot fit at
    /// all. `msg.body.final_flag` is left as it was: the caller sets it.
    pub fn fill(
        &mut self,
        msg: &mut SyncMl,
        peer: PeerLimits,
        measure: &dyn Fn(&SyncMl) -> usize,
    ) -> Result<bool, TooBig> {
        if self.queue.is_empty() {
            return Ok(false);
        }
        let final_flag = std::mem::replace(&mut msg.body.final_flag, true);
        let filled = self.fill_final(msg, peer, measure);
        msg.body.final_flag = final_flag;
        filled
    }

    /// [`Outbox::fill`] on a message measured with `Final`.
    fn fill_final(
        &mut self,
        msg: &mut SyncMl,
        peer: PeerLimits,
        measure: &dyn Fn(&SyncMl) -> usize,
    ) -> Result<bool, TooBig> {
        let max_size = peer.max_msg;
        let start = msg.body.commands.len();
        let data = self
            .queue
            .iter()
            .fold(0usize, |n, e| n.saturating_add(e.data_len()));
        if max_size == 0 || data <= max_size {
            msg.body
                .commands
                .extend(self.queue.iter().map(Entry::whole));
            if max_size == 0 || measure(msg) <= max_size {
                self.queue.clear();
                return Ok(false);
            }
            msg.body.commands.truncate(start);
        }
        let mut added = 0;
        while let Some(entry) = self.queue.pop_front() {
            if entry.data_len() <= max_size {
                msg.body.commands.push(entry.whole());
                if measure(msg) <= max_size {
                    added += 1;
                    continue;
                }
                msg.body.commands.pop();
                // Not in the room left, but in a message of its own: it waits for the next one
                // rather than being cut only because this one is nearly full.
                if added > 0 && fits_alone(msg, start, &entry, max_size, measure) {
                    self.queue.push_front(entry);
                    break;
                }
            }
            match split(entry, msg, peer, measure) {
                Split::Parts(first, rest) => {
                    msg.body.commands.push(first);
                    self.queue.push_front(rest);
                    break;
                }
                Split::Requeue(first, rest) => {
                    self.queue.push_front(rest);
                    self.queue.push_front(first);
                }
                // It fits in a message of its own: it goes next time.
                Split::Whole(entry) if added > 0 => {
                    self.queue.push_front(entry);
                    break;
                }
                // Beside the leading commands alone it does not fit either: it never will.
                Split::Whole(entry) => {
                    msg.body.commands.push(entry.whole());
                    let needs = measure(msg);
                    msg.body.commands.pop();
                    let command = entry.cmd.name();
                    self.queue.push_front(entry);
                    return Err(TooBig {
                        command,
                        needs,
                        max: max_size,
                    });
                }
            }
        }
        Ok(!self.queue.is_empty())
    }
}

/// Whether `entry`, whole, fits in `msg` with only the commands it had before filling started.
fn fits_alone(
    msg: &SyncMl,
    start: usize,
    entry: &Entry,
    max_size: usize,
    measure: &dyn Fn(&SyncMl) -> usize,
) -> bool {
    let mut probe = SyncMl {
        hdr: msg.hdr.clone(),
        body: super::SyncBody {
            commands: msg.body.commands[..start.min(msg.body.commands.len())].to_vec(),
            final_flag: msg.body.final_flag,
        },
    };
    probe.body.commands.push(entry.whole());
    measure(&probe) <= max_size
}

enum Split {
    /// What fits now, and the rest for the next message.
    Parts(Command, Entry),
    /// Items split apart: try again with the first part alone.
    Requeue(Entry, Entry),
    /// It cannot be cut to fit the room left.
    Whole(Entry),
}

/// Cut a command that does not fit in `msg`.
fn split(
    entry: Entry,
    msg: &mut SyncMl,
    peer: PeerLimits,
    measure: &dyn Fn(&SyncMl) -> usize,
) -> Split {
    let max_size = peer.max_msg;
    let n = entry.cmd.items().len();
    if n <= 1 || matches!(entry.cmd, Command::Status(_) | Command::Alert(_)) {
        return chunk(entry, msg, peer, measure);
    }
    // Keep the longest prefix of items that fits; if not even one does, try that one alone.
    for keep in (1..n).rev() {
        let (first, rest) = split_items(&entry.cmd, keep);
        msg.body.commands.push(first);
        let fits = measure(msg) <= max_size;
        if let (true, Some(first)) = (fits, msg.body.commands.pop()) {
            return Split::Parts(first, Entry::new(rest));
        }
    }
    let (first, rest) = split_items(&entry.cmd, 1);
    Split::Requeue(
        Entry {
            cmd: first,
            continued: entry.continued,
            tail: None,
        },
        Entry::new(rest),
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

/// Send a single item's Data as a large object: the chunk that fits now, and the rest. Only to a
/// peer that takes large objects of its size.
fn chunk(
    mut entry: Entry,
    msg: &mut SyncMl,
    peer: PeerLimits,
    measure: &dyn Fn(&SyncMl) -> usize,
) -> Split {
    let max_size = peer.max_msg;
    let Some(max_obj) = peer.max_obj else {
        return Split::Whole(entry);
    };
    // The Data leaves the command once, into a shared tail that every chunk is sliced from.
    let tail = match entry.tail.take() {
        Some(tail) => tail,
        None => match take_single_item_text(&mut entry.cmd) {
            Some(text) => Tail {
                text: text.into(),
                from: 0,
            },
            None => return Split::Whole(entry),
        },
    };
    let text = tail.rest();
    let declared = single_item(&entry.cmd)
        .and_then(|i| i.meta.as_ref())
        .and_then(|m| m.size);
    let size = (!entry.continued).then(|| declared.unwrap_or(text.len() as u64));
    if size.is_some_and(|size| size > max_obj) {
        entry.tail = Some(tail);
        return Split::Whole(entry);
    }
    let mut probe = entry.cmd.clone();
    set_chunk(&mut probe, String::new(), true, size);
    msg.body.commands.push(probe);
    let overhead = measure(msg);
    msg.body.commands.pop();
    // A first guess from the XML cost of each character, then checked with the real measure (the
    // encoding may cost more: WBXML writes a NUL as an entity), shrinking until it fits.
    // The whole text never fits here (the item did not fit whole), so at least one byte waits.
    let guess = prefix_fitting(text, max_size.saturating_sub(overhead));
    let mut cut = floor_char_boundary(text, guess.min(text.len().saturating_sub(1)));
    while cut > 0 {
        let mut first = entry.cmd.clone();
        set_chunk(&mut first, text[..cut].to_string(), true, size);
        msg.body.commands.push(first);
        let used = measure(msg);
        let Some(first) = msg.body.commands.pop() else {
            break;
        };
        if used <= max_size {
            let from = tail.from + cut;
            return Split::Parts(
                first,
                Entry {
                    cmd: entry.cmd,
                    continued: true,
                    tail: Some(Tail {
                        text: tail.text,
                        from,
                    }),
                },
            );
        }
        // Scale the cut by how much of its cost fits, and take at least one byte off.
        let room = max_size.saturating_sub(overhead);
        let cost = used.saturating_sub(overhead).max(1);
        let scaled = cut.saturating_mul(room) / cost;
        cut = floor_char_boundary(text, scaled.min(cut - 1));
    }
    entry.tail = Some(tail);
    Split::Whole(entry)
}

/// The largest char boundary of `text` at or before `i`.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
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

/// Take the Data out of the only item of a command that may carry a large object (Add, Replace,
/// Results), as text.
fn take_single_item_text(cmd: &mut Command) -> Option<String> {
    if !matches!(
        cmd,
        Command::Add(_) | Command::Replace(_) | Command::Results(_)
    ) {
        return None;
    }
    let [item] = items_mut(cmd)?.as_mut_slice() else {
        return None;
    };
    match item.data.take()? {
        Data::Text(text) => Some(text),
        Data::Opaque(bytes) => Some(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
    }
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
    use proptest::prelude::*;

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

    /// A message as it is sent: numbered, Final when the package is done, encoded.
    fn sent_size(msg: &SyncMl, encoding: Encoding) -> usize {
        let mut numbered = msg.clone();
        numbered.body.number_commands();
        encoding.encode(&numbered).len()
    }

    /// A peer with messages of `max` bytes that takes large objects of any size.
    fn takes_large_objects(max: usize) -> PeerLimits {
        PeerLimits {
            max_msg: max,
            max_obj: Some(u64::MAX),
        }
    }

    /// Send everything through messages of at most `max` bytes; each message's commands, or the
    /// command that could not fit.
    fn drain_in(
        outbox: &mut Outbox,
        max: usize,
        encoding: Encoding,
    ) -> Result<Vec<Vec<Command>>, TooBig> {
        let mut messages = Vec::new();
        loop {
            let mut msg = empty_msg();
            let more = outbox.fill(&mut msg, takes_large_objects(max), &|m| encoding.size(m))?;
            msg.body.final_flag = !more;
            let size = sent_size(&msg, encoding);
            assert!(
                max == 0 || size <= max,
                "message of {size} bytes over {max}"
            );
            messages.push(msg.body.commands);
            if !more {
                return Ok(messages);
            }
            assert!(messages.len() < 10_000, "no progress");
        }
    }

    fn drain(outbox: &mut Outbox, max: usize) -> Vec<Vec<Command>> {
        drain_in(outbox, max, Encoding::Xml).expect("everything fits")
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
    fn prepended_commands_go_first() {
        let mut outbox = Outbox::default();
        outbox.extend((2..4).map(status));
        outbox.prepend((0..2).map(status));
        assert_eq!(
            drain(&mut outbox, 0),
            vec![(0..4).map(status).collect::<Vec<_>>()]
        );
    }

    #[test]
    fn room_is_kept_for_final() {
        // A limit the two Statuses meet exactly without Final: they cannot both go, or Final
        // would push the message over it.
        let mut msg = empty_msg();
        msg.body.commands = (0..2).map(status).collect();
        let limit = sent_size(&msg, Encoding::Xml);
        let mut outbox = Outbox::default();
        outbox.extend((0..2).map(status));
        assert_eq!(drain(&mut outbox, limit).len(), 2);
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
    fn messages_stay_within_the_limit_in_either_encoding() {
        for encoding in [Encoding::Xml, Encoding::Wbxml] {
            for max in (500..1300).step_by(7) {
                let mut outbox = Outbox::default();
                outbox.extend((0..3).map(status));
                outbox.extend([results(&"z\u{e9}".repeat(400), 1), results("v", 12)]);
                // drain_in checks every message against the limit.
                drain_in(&mut outbox, max, encoding).expect("everything fits");
            }
        }
    }

    #[test]
    fn chunks_fit_in_wbxml_where_a_character_costs_more_than_in_xml() {
        // WBXML writes a NUL as an entity, several bytes where XML spends one.
        let data = "a\u{0}".repeat(600);
        let mut outbox = Outbox::default();
        outbox.extend([results(&data, 1)]);
        let messages = drain_in(&mut outbox, 500, Encoding::Wbxml).expect("fits");
        let joined: String = messages
            .iter()
            .flatten()
            .flat_map(|c| c.items())
            .filter_map(|i| i.data_text())
            .collect();
        assert_eq!(joined, data);
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
    fn what_cannot_be_cut_waits_for_a_message_of_its_own_or_is_refused() {
        let mut big = status(1);
        if let Command::Status(s) = &mut big {
            s.target_refs = vec!["./x".repeat(100)];
        }
        let mut alone = empty_msg();
        alone.body.commands = vec![big.clone()];
        alone.body.final_flag = true;
        let limit = sent_size(&alone, Encoding::Xml);
        let mut outbox = Outbox::default();
        outbox.extend([status(0), big.clone(), status(2)]);
        // It does not fit beside status 0, but does alone: it goes in the next message.
        assert_eq!(
            drain(&mut outbox, limit),
            vec![vec![status(0)], vec![big.clone()], vec![status(2)]]
        );
        // Below that it never fits: nothing of it is sent, and it stays queued.
        let mut outbox = Outbox::default();
        outbox.extend([status(0), big.clone(), status(2)]);
        let mut msg = empty_msg();
        assert_eq!(
            outbox.fill(&mut msg, PeerLimits::messages_of(limit - 1), &|m| {
                Encoding::Xml.size(m)
            }),
            Ok(true)
        );
        assert_eq!(msg.body.commands, vec![status(0)]);
        let mut msg = empty_msg();
        let refused = outbox
            .fill(&mut msg, PeerLimits::messages_of(limit - 1), &|m| {
                Encoding::Xml.size(m)
            })
            .expect_err("too big");
        assert_eq!((refused.command, refused.needs), (CmdName::Status, limit));
        assert!(msg.body.commands.is_empty());
        assert_eq!(outbox.len(), 2);
        assert!(!msg.body.final_flag, "Final is left to the caller");
        let mut add = Command::Add(ItemCommand::default());
        assert!(
            take_single_item_text(&mut add).is_none(),
            "no item, nothing to chunk"
        );
    }

    #[test]
    fn an_item_that_fits_a_message_of_its_own_waits_for_it_instead_of_being_chunked() {
        // Two Statuses leave too little room for the Results, which fits a message by itself.
        let limit = {
            let mut msg = empty_msg();
            msg.body.final_flag = true;
            msg.body.commands.push(results(&"w".repeat(1000), 1));
            Encoding::Xml.size(&msg) + 20
        };
        let mut outbox = Outbox::default();
        outbox.extend([status(0), status(1), results(&"w".repeat(1000), 1)]);
        let messages = drain(&mut outbox, limit);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(
            messages[1],
            vec![results(&"w".repeat(1000), 1)],
            "whole, not chunked"
        );
        assert!(messages
            .iter()
            .flatten()
            .flat_map(|c| c.items())
            .all(|i| !i.more_data));
    }

    #[test]
    fn large_objects_go_only_to_a_peer_that_takes_them_and_no_larger_than_it_takes() {
        let big = results(&"q".repeat(3000), 1);
        let fill = |peer: PeerLimits| {
            let mut outbox = Outbox::default();
            outbox.extend([big.clone()]);
            let mut msg = empty_msg();
            outbox.fill(&mut msg, peer, &|m| Encoding::Xml.size(m))
        };
        // No MaxObjSize: it can go neither whole nor in chunks.
        let refused = fill(PeerLimits::messages_of(1000)).expect_err("no large objects");
        assert_eq!(refused.command, CmdName::Results);
        // A MaxObjSize below the object: refused too.
        let small = PeerLimits {
            max_msg: 1000,
            max_obj: Some(2999),
        };
        assert!(fill(small).is_err());
        // Up to its MaxObjSize: in chunks.
        let enough = PeerLimits {
            max_msg: 1000,
            max_obj: Some(3000),
        };
        assert_eq!(fill(enough), Ok(true));
    }

    #[test]
    fn a_large_object_costs_about_its_size_not_its_size_squared() {
        // 1 MiB through 2 KiB messages: about 500 chunks. Every fill encodes one message, so the
        // bytes encoded in all stay within a small multiple of the object (quadratic cost would
        // encode the rest of the object again for every chunk: some 256 MiB).
        let data = "0123456789abcdef".repeat(1 << 16);
        let mut outbox = Outbox::default();
        outbox.extend([results(&data, 1)]);
        let encoded = std::cell::Cell::new(0usize);
        let measure = |m: &SyncMl| {
            let n = Encoding::Xml.size(m);
            encoded.set(encoded.get() + n);
            n
        };
        let mut joined = String::new();
        loop {
            let mut msg = empty_msg();
            let more = outbox
                .fill(&mut msg, takes_large_objects(2048), &measure)
                .expect("fits");
            joined.extend(
                msg.body
                    .commands
                    .iter()
                    .flat_map(|c| c.items())
                    .filter_map(|i| i.data_text()),
            );
            if !more {
                break;
            }
        }
        assert_eq!(joined, data);
        assert!(
            encoded.get() < 16 * data.len(),
            "{} bytes encoded to send {}",
            encoded.get(),
            data.len()
        );
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z0-9 ]{0,40}", "[&<>\r\u{0}é€😀a-z]{0,40}",]
            .prop_flat_map(|unit| (Just(unit), 0..60usize))
            .prop_map(|(unit, n)| unit.repeat(n))
    }

    fn command() -> impl Strategy<Value = Command> {
        prop_oneof![
            (0..50usize).prop_map(status),
            (text(), 1..6usize).prop_map(|(data, n)| results(&data, n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]
        /// Whatever is queued, no message goes over the limit (Final included), and either every
        /// command arrives whole (chunks joined) and in order, or a command is refused that does
        /// not fit even alone.
        #[test]
        fn no_message_is_ever_over_the_limit(
            commands in prop::collection::vec(command(), 1..8),
            max in 200usize..4000,
            wbxml in any::<bool>(),
        ) {
            let encoding = if wbxml { Encoding::Wbxml } else { Encoding::Xml };
            let mut outbox = Outbox::default();
            outbox.extend(commands.clone());
            match drain_in(&mut outbox, max, encoding) {
                Ok(messages) => {
                    let sent: Vec<Command> = messages.into_iter().flatten().collect();
                    let items = |cmds: &[Command]| -> Vec<(Option<String>, String)> {
                        cmds.iter()
                            .flat_map(|c| c.items().to_vec())
                            .map(|i| (i.source_uri().map(str::to_string), i.data_text().unwrap_or_default().into_owned()))
                            .collect()
                    };
                    // Chunks of one item joined back.
                    let mut joined: Vec<(Option<String>, String)> = Vec::new();
                    let mut open = false;
                    for cmd in &sent {
                        for item in cmd.items() {
                            let data = item.data_text().unwrap_or_default().into_owned();
                            match joined.last_mut() {
                                Some(last) if open => last.1.push_str(&data),
                                _ => joined.push((item.source_uri().map(str::to_string), data)),
                            }
                            open = item.more_data;
                        }
                    }
                    prop_assert_eq!(joined, items(&commands));
                    let statuses = |cmds: &[Command]| cmds.iter().filter(|c| matches!(c, Command::Status(_))).cloned().collect::<Vec<_>>();
                    prop_assert_eq!(statuses(&sent), statuses(&commands));
                }
                Err(refused) => {
                    prop_assert!(refused.needs > max);
                }
            }
        }
    }
}
