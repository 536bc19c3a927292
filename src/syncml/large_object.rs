//! Receiving large objects: chunks with `MoreData` put back together (reference §1.6).
//!
//! Both sides use the same rules. The first chunk of an Add, Replace or Results item carries the
//! total size in `Meta/Size`; every chunk is answered 213 (buffered) and the object is handled only
//! when the chunk without `MoreData` arrives. The assembled Data must have the declared size (else
//! 424). An object larger than the receiver's MaxObjSize is refused with 413, chunk by chunk, without
//! buffering it: whether its first chunk declares it so, or its chunks add up to more than declared
//! (DM Protocol §2.2: no object larger than MaxObjSize may be sent). When another command arrives while an object is incomplete, or the package ends, the
//! object is dropped and the receiver sends Alert 1225. Sizes count the bytes of the Data as sent.

use super::{Alert, AlertCode, Command, Data, Item, Location, Meta};

/// An object being received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    key: String,
    declared: Option<u64>,
    data: String,
    /// Bytes of Data received so far (also of a refused object, whose data is not kept).
    received: u64,
    first: Command,
    rejected: bool,
}

impl Pending {
    /// The LocURI of the object (the item's Target, or Source for Results).
    pub fn uri(&self) -> &str {
        &self.key
    }

    /// Bytes of the object's Data received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether the object is being refused (413) for its size.
    pub fn is_refused(&self) -> bool {
        self.rejected
    }

    /// The Alert 1225 telling the sender this object never ended; none for an object already
    /// refused (413): the sender was told, and stopping was what it was asked to do.
    pub fn no_end_of_data(&self) -> Option<Command> {
        if self.rejected {
            return None;
        }
        Some(Command::Alert(Alert {
            items: vec![Item {
                target: Some(Location::uri(self.key.clone())),
                source: Some(Location::uri(self.key.clone())),
                ..Item::default()
            }],
            ..Alert::bare(AlertCode::NoEndOfData)
        }))
    }
}

/// What to do with a received command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Not part of a large object: handle it as it is.
    Whole,
    /// A chunk was buffered: answer 213.
    Buffered,
    /// The last chunk came: handle this assembled command (it carries the last chunk's CmdID).
    Complete(Command),
    /// The assembled size differs from the declared one: answer 424.
    SizeMismatch,
    /// The object exceeds MaxObjSize: answer 413.
    TooLarge,
    /// Another command came before the last chunk: send [`Pending::no_end_of_data`], then feed the
    /// command again.
    Abandoned(Pending),
}

/// Feed one received command. `max_obj` is the receiver's MaxObjSize. A caller feeds every command
/// but Alert 1222 (which asks for the next message and travels beside the chunks too).
pub fn feed(state: &mut Option<Pending>, cmd: &Command, max_obj: Option<u64>) -> Chunk {
    // Statuses answer the receiver's own commands: they travel beside the chunks.
    if matches!(cmd, Command::Status(_)) {
        return Chunk::Whole;
    }
    let chunk = chunk_of(cmd);
    if let Some(mut pending) = state.take() {
        let Some((_, item)) = chunk.filter(|(key, _)| *key == pending.key) else {
            return Chunk::Abandoned(pending);
        };
        let text = item_text(item);
        pending.received = pending.received.saturating_add(text.len() as u64);
        if !pending.rejected && max_obj.is_some_and(|max| pending.received > max) {
            pending.rejected = true;
            pending.data = String::new();
        }
        if pending.rejected {
            if item.more_data {
                *state = Some(pending);
            }
            return Chunk::TooLarge;
        }
        pending.data.push_str(&text);
        if item.more_data {
            *state = Some(pending);
            return Chunk::Buffered;
        }
        if pending
            .declared
            .is_some_and(|d| d != pending.data.len() as u64)
        {
            return Chunk::SizeMismatch;
        }
        return Chunk::Complete(assembled(pending, cmd));
    }
    let Some((key, item)) = chunk else {
        return Chunk::Whole;
    };
    let len = item_text(item).len() as u64;
    let declared = item.meta.as_ref().and_then(|m| m.size);
    if max_obj.is_some_and(|max| declared.unwrap_or(len).max(len) > max) {
        if item.more_data {
            *state = Some(Pending {
                key,
                declared,
                data: String::new(),
                received: len,
                first: cmd.clone(),
                rejected: true,
            });
        }
        return Chunk::TooLarge;
    }
    if !item.more_data {
        return match declared {
            Some(d) if d != len => Chunk::SizeMismatch,
            _ => Chunk::Whole,
        };
    }
    *state = Some(Pending {
        key,
        declared,
        data: item_text(item),
        received: len,
        first: cmd.clone(),
        rejected: false,
    });
    Chunk::Buffered
}

/// The object's key and item, for single-item Add, Replace and Results.
fn chunk_of(cmd: &Command) -> Option<(String, &Item)> {
    let [item] = cmd.items() else { return None };
    let key = match cmd {
        Command::Add(_) | Command::Replace(_) => item.target_uri()?,
        Command::Results(_) => item.source_uri()?,
        _ => return None,
    };
    Some((key.to_string(), item))
}

fn item_text(item: &Item) -> String {
    item.data
        .as_ref()
        .map(|d| d.as_text().into_owned())
        .unwrap_or_default()
}

/// The first chunk's command carrying the whole Data, numbered as the last chunk.
fn assembled(pending: Pending, last: &Command) -> Command {
    let mut cmd = pending.first;
    *cmd.cmd_id_mut() = last.cmd_id().to_string();
    let item = match &mut cmd {
        Command::Add(c) | Command::Replace(c) => c.items.first_mut(),
        Command::Results(c) => c.items.first_mut(),
        _ => None,
    };
    if let Some(item) = item {
        item.data = Some(Data::Text(pending.data));
        item.more_data = false;
        if let Some(meta) = item.meta.as_mut() {
            meta.size = None;
            if *meta == Meta::default() {
                item.meta = None;
            }
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syncml::ItemCommand;

    fn replace(id: &str, target: &str, data: &str, more: bool, size: Option<u64>) -> Command {
        Command::Replace(ItemCommand {
            cmd_id: id.into(),
            items: vec![Item {
                target: Some(Location::uri(target)),
                meta: size.map(|s| Meta {
                    size: Some(s),
                    format: Some("chr".into()),
                    ..Meta::default()
                }),
                data: Some(Data::Text(data.into())),
                more_data: more,
                ..Item::default()
            }],
            ..ItemCommand::default()
        })
    }

    #[test]
    fn chunks_are_buffered_then_assembled() {
        let mut state = None;
        assert_eq!(
            feed(
                &mut state,
                &replace("3", "./A", "hello ", true, Some(11)),
                None
            ),
            Chunk::Buffered
        );
        let Chunk::Complete(cmd) =
            feed(&mut state, &replace("2", "./A", "world", false, None), None)
        else {
            panic!("expected the assembled command")
        };
        assert_eq!(cmd.cmd_id(), "2");
        assert_eq!(cmd.items()[0].data_text().as_deref(), Some("hello world"));
        assert_eq!(
            cmd.items()[0]
                .meta
                .as_ref()
                .and_then(|m| m.format.as_deref()),
            Some("chr")
        );
        assert!(state.is_none());
    }

    #[test]
    fn a_wrong_total_is_a_size_mismatch() {
        let mut state = None;
        feed(
            &mut state,
            &replace("1", "./A", "abc", true, Some(100)),
            None,
        );
        assert_eq!(
            feed(&mut state, &replace("1", "./A", "def", false, None), None),
            Chunk::SizeMismatch
        );
        assert_eq!(
            feed(&mut state, &replace("1", "./B", "x", false, Some(2)), None),
            Chunk::SizeMismatch
        );
    }

    #[test]
    fn objects_over_max_obj_size_are_refused_chunk_by_chunk() {
        let mut state = None;
        assert_eq!(
            feed(
                &mut state,
                &replace("1", "./A", "abc", true, Some(50)),
                Some(10)
            ),
            Chunk::TooLarge
        );
        assert_eq!(
            feed(
                &mut state,
                &replace("1", "./A", "def", true, None),
                Some(10)
            ),
            Chunk::TooLarge
        );
        assert_eq!(
            feed(
                &mut state,
                &replace("1", "./A", "ghi", false, None),
                Some(10)
            ),
            Chunk::TooLarge
        );
        assert!(state.is_none());
        assert_eq!(
            feed(
                &mut state,
                &replace("1", "./B", "0123456789AB", false, None),
                Some(10)
            ),
            Chunk::TooLarge
        );
    }

    #[test]
    fn chunks_adding_up_to_more_than_max_obj_size_are_refused_from_there_on() {
        let mut state = None;
        let feed_chunk = |state: &mut Option<Pending>, data: &str, more: bool| {
            feed(state, &replace("1", "./A", data, more, None), Some(10))
        };
        // The first chunk declares a size within the limit, then the chunks outgrow it.
        assert_eq!(
            feed(
                &mut state,
                &replace("1", "./A", "0123", true, Some(8)),
                Some(10)
            ),
            Chunk::Buffered
        );
        assert_eq!(feed_chunk(&mut state, "4567", true), Chunk::Buffered);
        assert_eq!(feed_chunk(&mut state, "89AB", true), Chunk::TooLarge);
        let pending = state.as_ref().expect("still refusing");
        assert!(pending.is_refused());
        assert_eq!(pending.received(), 12);
        assert_eq!(feed_chunk(&mut state, "CD", false), Chunk::TooLarge);
        assert!(state.is_none());
    }

    #[test]
    fn another_command_abandons_the_object() {
        let mut state = None;
        feed(&mut state, &replace("1", "./A", "abc", true, Some(6)), None);
        let Chunk::Abandoned(p) = feed(&mut state, &replace("2", "./B", "x", false, None), None)
        else {
            panic!("expected the object to be abandoned")
        };
        assert_eq!(p.uri(), "./A");
        assert!(
            matches!(p.no_end_of_data(), Some(Command::Alert(a)) if a.code == AlertCode::NoEndOfData)
        );
        assert!(state.is_none());
        assert_eq!(
            feed(&mut state, &replace("2", "./B", "x", false, None), None),
            Chunk::Whole
        );
    }
}
