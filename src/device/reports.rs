//! Reports the device owes its server: Generic Alerts (1226) waiting for an acknowledgement.
//!
//! A report goes out in the next session's Package 1 (one queued while a session runs, in the
//! session's next message) and leaves the queue only when the server answers its Alert with 200 or
//! 202; otherwise it goes again in the session after (reference §1.8, and FUMO: "the client must not
//! retry the operation", only the report).

use crate::syncml::GenericAlert;

/// A queued report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub id: u64,
    pub alert: GenericAlert,
    /// Sessions it has gone out in so far.
    pub attempts: u32,
}

/// The device's unacknowledged reports, oldest first. The pending ones are durable state; the
/// delivered ones are a record of the run (not saved).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportQueue {
    next_id: u64,
    pending: Vec<Report>,
    #[serde(skip)]
    delivered: Vec<Report>,
}

impl ReportQueue {
    /// Queue a report; its id.
    pub fn push(&mut self, alert: GenericAlert) -> u64 {
        self.next_id += 1;
        self.pending.push(Report {
            id: self.next_id,
            alert,
            attempts: 0,
        });
        self.next_id
    }

    /// Reports not acknowledged yet.
    pub fn pending(&self) -> &[Report] {
        &self.pending
    }

    /// Reports the server acknowledged, in the order it did.
    pub fn delivered(&self) -> &[Report] {
        &self.delivered
    }

    /// Count one more sending of every pending report.
    pub fn sent(&mut self) {
        for r in &mut self.pending {
            r.attempts += 1;
        }
    }

    /// Count one more sending of the pending reports `ids` (reports queued during a session, sent
    /// in one of its later messages).
    pub fn sent_these(&mut self, ids: &[u64]) {
        for r in self.pending.iter_mut().filter(|r| ids.contains(&r.id)) {
            r.attempts += 1;
        }
    }

    /// Take the pending reports (and id counter) of a reloaded state; the record of delivered
    /// reports stays.
    pub fn restore(&mut self, saved: ReportQueue) {
        self.next_id = saved.next_id;
        self.pending = saved.pending;
    }

    /// The server acknowledged report `id`.
    pub fn acknowledge(&mut self, id: u64) {
        if let Some(i) = self.pending.iter().position(|r| r.id == id) {
            let report = self.pending.remove(i);
            self.delivered.push(report);
        }
    }
}
