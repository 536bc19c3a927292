//! The mock server's sessions, bounded: the most recent ones are kept, older ones dropped and
//! counted, so a server that runs for a long time (`dmsim serve` under a fleet) holds a fixed
//! amount per session and a fixed number of sessions, whatever the number of devices it has seen.
//!
//! Sessions are numbered in the order they open; a session's number is its handle for the time of
//! one request. When more than the configured number are kept, the oldest goes first: sessions
//! are short, so the oldest of thousands has ended or been abandoned by its device (a device that
//! comes back to one that was dropped opens a new session, as after a server restart).

use super::session::ServerSession;
use std::collections::{HashMap, VecDeque};

/// How many sessions a server keeps by default ([`super::ServerConfig::keep_sessions`]).
pub const DEFAULT_KEPT_SESSIONS: usize = 10_000;

/// A session's number: its place in the order sessions opened.
pub(super) type SessionId = u64;

/// The kept sessions, by number and by (device, SessionID).
#[derive(Default)]
pub(super) struct Sessions {
    kept: VecDeque<ServerSession>,
    /// The number of `kept[0]`.
    first: SessionId,
    by_key: HashMap<(String, String), SessionId>,
    /// Sessions dropped to keep within the bound.
    dropped: u64,
}

impl Sessions {
    /// The session open on this (device, SessionID), if it is kept.
    pub(super) fn find(&self, key: &(String, String)) -> Option<SessionId> {
        self.by_key.get(key).copied()
    }

    /// Open a session on `key` (it replaces the key's earlier session, which stays kept for the
    /// records), keeping at most `keep` sessions.
    pub(super) fn open(
        &mut self,
        key: (String, String),
        session: ServerSession,
        keep: usize,
    ) -> SessionId {
        let id = self.first.saturating_add(self.kept.len() as u64);
        self.kept.push_back(session);
        self.by_key.insert(key, id);
        while self.kept.len() > keep.max(1) {
            self.drop_oldest();
        }
        id
    }

    fn drop_oldest(&mut self) {
        let Some(old) = self.kept.pop_front() else {
            return;
        };
        let id = self.first;
        self.first = self.first.saturating_add(1);
        self.dropped = self.dropped.saturating_add(1);
        let key = (old.record.device.clone(), old.record.session_id.clone());
        if self.by_key.get(&key) == Some(&id) {
            self.by_key.remove(&key);
        }
    }

    fn index(&self, id: SessionId) -> Option<usize> {
        usize::try_from(id.checked_sub(self.first)?)
            .ok()
            .filter(|&i| i < self.kept.len())
    }

    pub(super) fn get(&self, id: SessionId) -> Option<&ServerSession> {
        self.index(id).and_then(|i| self.kept.get(i))
    }

    pub(super) fn get_mut(&mut self, id: SessionId) -> Option<&mut ServerSession> {
        self.index(id).and_then(|i| self.kept.get_mut(i))
    }

    /// The kept sessions, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &ServerSession> {
        self.kept.iter()
    }

    /// How many sessions were dropped to keep within the bound.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(s: &mut Sessions, device: &str, id: &str, keep: usize) -> SessionId {
        let key = (device.to_string(), id.to_string());
        s.open(key, ServerSession::new(device, id, Vec::new()), keep)
    }

    #[test]
    fn the_oldest_sessions_go_first_and_their_keys_with_them() {
        let mut s = Sessions::default();
        let a = open(&mut s, "A", "1", 2);
        let b = open(&mut s, "B", "1", 2);
        assert_eq!(s.find(&("A".into(), "1".into())), Some(a));
        let c = open(&mut s, "C", "1", 2);
        assert_eq!((s.dropped(), s.iter().count()), (1, 2));
        assert!(s.get(a).is_none(), "dropped");
        assert_eq!(
            s.find(&("A".into(), "1".into())),
            None,
            "its key is forgotten"
        );
        assert!(s.get(b).is_some() && s.get_mut(c).is_some());
        // A key opened again points at the new session; dropping the old one keeps it.
        let b2 = open(&mut s, "B", "1", 2);
        let _ = open(&mut s, "D", "1", 2);
        assert_eq!(s.find(&("B".into(), "1".into())), Some(b2));
        assert_eq!(s.get(b2).map(|x| x.record.device.as_str()), Some("B"));
    }
}
