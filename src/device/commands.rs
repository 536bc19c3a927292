//! Executing the server's management commands on a device, and the Status and Results it answers.
//!
//! One Status per item of an item command (with TargetRef/SourceRef), Results after the Status of a
//! successful Get, one Status for a container before its members' (reference §1.4).
//!
//! Atomic is all or nothing (reference §1.4). Its members answer as they would outside it (an Exec
//! on a FUMO operation node 202, or 409 when a job is queued or another Exec of the same Atomic
//! accepted one), but what they do besides changing the tree (a queued FUMO job, a package moved to
//! the package store, an Exec record: see [`super::effects`]) is kept aside and applied only when
//! the Atomic commits, in the order the members ran. On a failure the tree snapshot is restored and
//! the kept effects are dropped; members that had succeeded answer 216, members never reached
//! answer 215, and the Atomic answers 507. When the `tree.atomic-rollback` fault stops the undo,
//! the tree keeps the changes and the members that had changed it answer 516; an Exec still answers
//! 216, for its effect was never applied and is dropped as in any failed Atomic. A nested Atomic or
//! a Get inside an Atomic answers 500. In a Sequence, a failed member leaves the rest unexecuted
//! (215). After a UI answer that stops the package (see [`super::user`]), every later command
//! answers 215.
//!
//! Commands DM does not define answer 406 when they are SyncML DS commands (Sync, Put, Map, Search,
//! Move: an optional feature a DM client does not support) and 501 otherwise. Alerts a server may not
//! send answer 406. A `tree.write` storage fault answers 510 and leaves the tree unchanged.

use super::{Device, Effect, Prompt, PromptRecord};
use crate::faults::{FaultEffect, FaultPoint};
use crate::syncml::{AlertCode, CmdName, Command, Container, Item, Results, Status, StatusCode};
use std::time::Duration;

/// What processing a server message produced.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    /// Status and Results commands (and device alerts such as 1225), CmdIDs not yet assigned.
    pub replies: Vec<Command>,
    /// Simulated time the device spent (user prompts).
    pub elapsed: Duration,
    /// A user answer stopped the package.
    pub stopped: bool,
}

/// Runs a server message's commands against a device.
pub struct Executor<'d> {
    device: &'d mut Device,
    server_id: &'d str,
    msg_ref: &'d str,
    /// The server's MaxObjSize: a Get whose result is larger answers 413. (A result too large for
    /// a message of a server that takes no large objects is the session's to refuse: only it
    /// knows what a message holds besides.)
    peer_max_obj: Option<u64>,
    /// Inside an Atomic: the effects of its members, applied when it commits.
    deferred: Option<Vec<Effect>>,
    out: Processed,
}

impl<'d> Executor<'d> {
    /// An executor for the commands of server message `msg_ref`, sent by `server_id` (for ACLs).
    pub fn new(device: &'d mut Device, server_id: &'d str, msg_ref: &'d str) -> Executor<'d> {
        Executor {
            device,
            server_id,
            msg_ref,
            peer_max_obj: None,
            deferred: None,
            out: Processed::default(),
        }
    }

    /// Refuse (413) Results larger than the server's MaxObjSize.
    pub fn with_peer_max_obj(mut self, max: Option<u64>) -> Executor<'d> {
        self.peer_max_obj = max;
        self
    }

    /// A user answer stopped the package: later commands answer 215.
    pub fn is_stopped(&self) -> bool {
        self.out.stopped
    }

    /// Answer a command with a status without executing it (large-object chunks, refusals).
    pub fn answer(&mut self, cmd: &Command, code: StatusCode) {
        if !cmd.no_resp() {
            self.push(status(self.msg_ref, cmd, code, cmd.items().first()));
        }
    }

    /// Queue a command of the device's own (e.g. Alert 1225) after the replies so far.
    pub fn send(&mut self, cmd: Command) {
        self.out.replies.push(cmd);
    }

    /// Execute one command and queue its replies.
    pub fn run(&mut self, cmd: &Command) {
        let start = self.out.replies.len();
        // A stop (cancel, reject) counts as a failure but the message goes on: every later command
        // answers 215, so the result is not needed here.
        let _failed = self.execute(cmd, false);
        if cmd.no_resp() {
            let (kept, _): (Vec<_>, Vec<_>) = self
                .out
                .replies
                .drain(start..)
                .partition(|r| !matches!(r, Command::Status(s) if s.cmd_ref == cmd.cmd_id()));
            self.out.replies.extend(kept);
        }
    }

    /// Everything queued so far.
    pub fn finish(self) -> Processed {
        self.out
    }

    /// Execute one command, queue its replies, and say whether it failed.
    fn execute(&mut self, cmd: &Command, in_atomic: bool) -> bool {
        if self.out.stopped {
            // 215 is no failure of the command's own (see `run`).
            self.not_executed(cmd);
            return false;
        }
        let who = self.server_id;
        match cmd {
            Command::Add(c) => self.items(cmd, &c.items, |d, i| {
                let code = d.tree.add(who, i, c.meta.as_ref(), d.clock);
                if code.is_success() {
                    if let Some(uri) = i.target_uri() {
                        d.added(uri);
                    }
                }
                code
            }),
            Command::Replace(c) => {
                let mut effects = Vec::new();
                let failed = self.items(cmd, &c.items, |d, i| {
                    let code = d.tree.replace(who, i, c.meta.as_ref(), d.clock);
                    if code.is_success() {
                        effects.extend(i.target_uri().and_then(|uri| d.replaced(uri)));
                    }
                    code
                });
                effects.into_iter().for_each(|e| self.take_effect(e));
                failed
            }
            Command::Copy(c) => self.items(cmd, &c.items, |d, i| d.tree.copy(who, i, d.clock)),
            Command::Delete(c) => self.items(cmd, &c.items, |d, i| d.tree.delete(who, i)),
            Command::Get(_) if in_atomic => {
                self.push(status(self.msg_ref, cmd, StatusCode::CommandFailed, None))
            }
            // A nested Atomic is refused whole; its members, never run, answer 215 each: every
            // command gets a Status (reference §1.4).
            Command::Atomic(c) if in_atomic => {
                self.push(status(self.msg_ref, cmd, StatusCode::CommandFailed, None));
                for member in &c.commands {
                    self.not_executed(member);
                }
                true
            }
            // A Get without an item is as incomplete as an Add without one (412).
            Command::Get(c) if c.items.is_empty() => self.push(status(
                self.msg_ref,
                cmd,
                StatusCode::IncompleteCommand,
                None,
            )),
            Command::Get(c) => c
                .items
                .iter()
                .fold(false, |failed, item| self.get(cmd, item) | failed),
            Command::Exec(c) => {
                let code = match c.items.as_slice() {
                    [item] => match self.device.tree.check_exec(who, item) {
                        Ok(uri) => {
                            let kept = self.deferred.as_deref().unwrap_or_default();
                            let (code, effect) =
                                self.device.exec(&uri, item, c.correlator.as_deref(), kept);
                            effect.into_iter().for_each(|e| self.take_effect(e));
                            code
                        }
                        Err(code) => code,
                    },
                    _ => StatusCode::BadRequest,
                };
                self.push(status(self.msg_ref, cmd, code, c.items.first()))
            }
            Command::Alert(a) => {
                let (code, items) = self.alert(a.code, &a.items);
                let mut s = status(self.msg_ref, cmd, code, None);
                s.items = items;
                self.push(s)
            }
            Command::Atomic(c) => self.atomic(cmd, c),
            Command::Sequence(c) => self.sequence(cmd, c, in_atomic),
            Command::Unknown(u) => {
                let code = match u.name.as_str() {
                    "Sync" | "Put" | "Map" | "Search" | "Move" => {
                        StatusCode::OptionalFeatureNotSupported
                    }
                    _ => StatusCode::CommandNotImplemented,
                };
                self.push(status(self.msg_ref, cmd, code, None))
            }
            // Replies of the server to the device's own commands need no answer.
            Command::Status(_) | Command::Results(_) => false,
        }
    }

    /// One Status per item for a tree write, guarded by the `tree.write` fault point.
    fn items(
        &mut self,
        cmd: &Command,
        items: &[Item],
        mut write: impl FnMut(&mut Device, &Item) -> StatusCode,
    ) -> bool {
        if items.is_empty() {
            return self.push(status(
                self.msg_ref,
                cmd,
                StatusCode::IncompleteCommand,
                None,
            ));
        }
        let mut failed = false;
        for item in items {
            let code = match self.device.faults.fire(FaultPoint::TreeWrite) {
                Some(FaultEffect::StorageWriteError) => StatusCode::DataStoreFailure,
                // Effects meant for other fault points do nothing here.
                Some(_) | None => write(self.device, item),
            };
            failed |= self.push(status(self.msg_ref, cmd, code, Some(item)));
        }
        failed
    }

    fn get(&mut self, cmd: &Command, item: &Item) -> bool {
        let too_large = |items: &[Item]| {
            self.peer_max_obj.is_some_and(|max| {
                items.iter().any(|i| {
                    i.data
                        .as_ref()
                        .is_some_and(|d| d.as_bytes().len() as u64 > max)
                })
            })
        };
        match self.device.tree.get(self.server_id, item) {
            Ok(result_items) if too_large(&result_items) => self.push(status(
                self.msg_ref,
                cmd,
                StatusCode::RequestEntityTooLarge,
                Some(item),
            )),
            Ok(result_items) => {
                self.push(status(self.msg_ref, cmd, StatusCode::Ok, Some(item)));
                self.out.replies.push(Command::Results(Results {
                    cmd_id: String::new(),
                    msg_ref: Some(self.msg_ref.to_string()),
                    cmd_ref: cmd.cmd_id().to_string(),
                    meta: None,
                    target_ref: None,
                    source_ref: item.target_uri().map(str::to_string),
                    items: result_items,
                }));
                false
            }
            Err(code) => self.push(status(self.msg_ref, cmd, code, Some(item))),
        }
    }

    fn alert(&mut self, code: AlertCode, items: &[Item]) -> (StatusCode, Vec<Item>) {
        if !code.is_user_interaction() {
            return (StatusCode::OptionalFeatureNotSupported, Vec::new());
        }
        let Some(prompt) = Prompt::from_items(code, items) else {
            return (StatusCode::IncompleteCommand, Vec::new());
        };
        let outcome = self.device.user.answer(&prompt);
        self.out.elapsed = self.out.elapsed.saturating_add(outcome.elapsed);
        self.device.clock = self.device.clock.saturating_add(outcome.elapsed.as_secs());
        self.out.stopped |= outcome.stops_package;
        self.device.records.prompts.push(PromptRecord {
            prompt,
            status: outcome.status,
        });
        (outcome.status, outcome.items)
    }

    /// Apply a command's effect now, or keep it for the commit of the Atomic being run.
    fn take_effect(&mut self, effect: Effect) {
        match self.deferred.as_mut() {
            Some(kept) => kept.push(effect),
            None => self.device.apply(effect),
        }
    }

    fn atomic(&mut self, cmd: &Command, c: &Container) -> bool {
        let snapshot = self.device.tree.clone();
        // A nested Atomic answers 500 before it gets here, so `outer` is None; it is put back all
        // the same.
        let outer = self.deferred.replace(Vec::new());
        let (mut replies, failed) = self.members(&c.commands, true);
        let effects = std::mem::replace(&mut self.deferred, outer).unwrap_or_default();
        if failed {
            if !effects.is_empty() {
                tracing::debug!(
                    dropped = effects.len(),
                    "Atomic failed: its effects are dropped"
                );
            }
            drop(effects);
            let rolled = match self.device.faults.fire(FaultPoint::AtomicRollback) {
                Some(FaultEffect::StorageWriteError) => StatusCode::AtomicRollbackFailed,
                Some(_) | None => {
                    self.device.tree = snapshot;
                    StatusCode::AtomicRollbackOk
                }
            };
            for reply in &mut replies {
                // Members that ran and succeeded are undone; 215 (never run) stays. An Exec only
                // has effects, and they were dropped: it is undone even when the tree is not.
                if let Command::Status(s) = reply {
                    if s.code.is_success() && s.code != StatusCode::NotExecuted {
                        s.code = match s.cmd {
                            CmdName::Exec => StatusCode::AtomicRollbackOk,
                            _ => rolled,
                        };
                    }
                }
            }
        } else {
            for effect in effects {
                self.device.apply(effect);
            }
        }
        let code = if failed {
            StatusCode::AtomicFailed
        } else {
            StatusCode::Ok
        };
        self.push(status(self.msg_ref, cmd, code, None));
        self.out.replies.extend(replies);
        failed
    }

    fn sequence(&mut self, cmd: &Command, c: &Container, in_atomic: bool) -> bool {
        let (replies, failed) = self.members(&c.commands, in_atomic);
        self.push(status(self.msg_ref, cmd, StatusCode::Ok, None));
        self.out.replies.extend(replies);
        failed
    }

    /// Run container members into their own reply list; after the first failure the rest answer 215.
    fn members(&mut self, commands: &[Command], in_atomic: bool) -> (Vec<Command>, bool) {
        let outer = std::mem::take(&mut self.out.replies);
        let mut failed = false;
        for member in commands {
            if failed {
                self.not_executed(member);
            } else {
                failed = self.execute(member, in_atomic);
            }
        }
        (std::mem::replace(&mut self.out.replies, outer), failed)
    }

    /// Answer a command that is not run 215, and so each member of a container (a Status for every
    /// command, reference §1.4).
    fn not_executed(&mut self, cmd: &Command) {
        self.push(status(self.msg_ref, cmd, StatusCode::NotExecuted, None));
        if let Command::Atomic(c) | Command::Sequence(c) = cmd {
            for member in &c.commands {
                self.not_executed(member);
            }
        }
    }

    /// Queue a Status; true when it reports a failure.
    fn push(&mut self, s: Status) -> bool {
        let failed = !s.code.is_success();
        self.out.replies.push(Command::Status(s));
        failed
    }
}
/// The Status answering `cmd` (for `item`, when the command has items).
fn status(msg_ref: &str, cmd: &Command, code: StatusCode, item: Option<&Item>) -> Status {
    let mut status = Status::for_command(msg_ref, cmd, code);
    status.target_refs = item
        .and_then(Item::target_uri)
        .map(str::to_string)
        .into_iter()
        .collect();
    status.source_refs = item
        .and_then(Item::source_uri)
        .map(str::to_string)
        .into_iter()
        .collect();
    status
}
