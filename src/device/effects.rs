//! What a server command does on a device besides changing its tree: an Exec that takes effect (it
//! is recorded and, on a FUMO operation node, queues a job) and a package written in-band to
//! `<x>/Update/PkgData` (it goes to the package store, and the FUMO State moves to 40, then 50).
//!
//! A command produces its [`Effect`] without applying it. The [`Executor`](super::Executor)
//! applies it at once ([`Device::apply`]) or, inside an Atomic (a Sequence in an Atomic included),
//! keeps it until the Atomic ends: a commit applies the kept effects in the order their commands
//! ran, a failed Atomic drops them. An Atomic is all or nothing (reference §1.4), so a rolled-back
//! Exec queues no job and is not recorded, and a rolled-back PkgData never reaches the package
//! store nor changes the FUMO State. That holds when the rollback itself fails too (the
//! `tree.atomic-rollback` fault, 516): the tree keeps the members' changes, but the effects were
//! never applied and are dropped all the same, since the server was told the Atomic failed (507);
//! a device does not start an update its server was told did not happen.
//!
//! An effect holds what its command decided when it ran, so applying it later means the same: the
//! job carries the `PkgURL` of the moment of the Exec, and the package's bytes left the tree when
//! the Replace ran (the node is write-only; until the commit the effect holds them, not the tree).

use super::{Device, ExecRecord};
use crate::fumo::Job;
use crate::syncml::{Item, StatusCode};

/// A command's side effect, applied when the command takes effect (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// An Exec takes effect: it is recorded, and the FUMO job it was accepted for (if any) is
    /// queued.
    Exec {
        record: ExecRecord,
        job: Option<Job>,
    },
    /// A package written to `<x>/Update/PkgData`, already out of the tree, goes to the package
    /// store (empty: the store is cleared).
    StorePkgData(Vec<u8>),
}

impl Effect {
    /// Whether applying this queues a FUMO job.
    pub fn queues_job(&self) -> bool {
        matches!(self, Effect::Exec { job: Some(_), .. })
    }
}

impl Device {
    /// Execute an Exec on a node that allows it: the status it answers and, unless it is refused,
    /// its effect. A FUMO operation node makes a job (202, or 409 while a job is queued or when
    /// `job_accepted`, i.e. another Exec of the same Atomic accepted one: see
    /// [`crate::fumo::agent`]); nodes without a management object behind them are plain device
    /// operations that complete when they take effect (200).
    pub fn exec(
        &self,
        uri: &str,
        item: &Item,
        correlator: Option<&str>,
        job_accepted: bool,
    ) -> (StatusCode, Option<Effect>) {
        let job = match self.fumo.as_deref() {
            Some(fumo) => match fumo.operation_at(uri) {
                Some(operation) => {
                    match fumo.accept(operation, correlator, &self.tree, job_accepted) {
                        Ok(job) => Some(job),
                        Err(code) => return (code, None),
                    }
                }
                None => None,
            },
            None => None,
        };
        let code = if job.is_some() {
            StatusCode::Accepted
        } else {
            StatusCode::Ok
        };
        let record = ExecRecord {
            uri: uri.to_string(),
            data: item.data_text().map(|d| d.into_owned()),
            correlator: correlator.map(str::to_string),
            at: self.clock,
        };
        (code, Some(Effect::Exec { record, job }))
    }

    /// A server command replaced the value at `uri`: the effect of a write a management object
    /// acts on. FUMO takes an in-band package out of `Update/PkgData` now, for the package store.
    pub fn replaced(&mut self, uri: &str) -> Option<Effect> {
        let fumo = self.fumo.as_deref()?;
        if !fumo.is_pkg_data(uri) {
            return None;
        }
        fumo.take_pkg_data(&mut self.tree, self.clock)
            .map(Effect::StorePkgData)
    }

    /// Apply a command's effect: the command takes effect now.
    pub fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Exec { record, job } => {
                self.records.execs.push(record);
                if let Some(job) = job {
                    match self.fumo.as_deref_mut() {
                        Some(fumo) => fumo.queue(job),
                        None => tracing::error!(
                            operation = ?job.operation,
                            "a FUMO job for a device without FUMO is dropped"
                        ),
                    }
                }
            }
            Effect::StorePkgData(bytes) => match self.fumo.as_deref_mut() {
                Some(fumo) => fumo.store_pkg_data(bytes, &mut self.tree, self.clock),
                None => tracing::error!("an in-band package for a device without FUMO is dropped"),
            },
        }
    }
}
