//! The E-FOTA client agent: mounts the client's subtree ([`super::mo`]) and reports, in E-FOTA
//! codes, how each operation of the device ended.

use super::client::Client;
use super::dispatch::{self, Named};
use super::mo::{self, ClientInfo};
use super::statuses::StatusReports;
use crate::engine::{mark, Action, Agent, Env, Input, Reported, SimSeconds, Ticket};
use crate::outcome::Outcome;
use crate::profile::{Platform, Profile, Row, Table};
use crate::protocol::efota;
use crate::syncml::{GenericAlert, Status, StatusCode};
use crate::tree::{Tree, TreeError};
use std::any::Any;

/// What a client is: where it sits, what it shows, and the platform it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfotaConfig {
    pub root: String,
    pub info: ClientInfo,
    /// The platform of the device, which chooses a few codes (the iOS app codes).
    pub platform: Platform,
}

impl EfotaConfig {
    /// A client at the standard root ([`mo::ROOT`]).
    pub fn new(info: ClientInfo, platform: Platform) -> EfotaConfig {
        EfotaConfig {
            root: mo::ROOT.to_string(),
            info,
            platform,
        }
    }
}

/// The E-FOTA client of one device.
#[derive(Debug, Clone)]
pub struct Efota {
    pub config: EfotaConfig,
    /// What the client reported, in order (for expectations and `dmsim device`'s summary).
    pub records: Vec<Reported>,
    /// The client's own operations ([`super::client`]).
    pub client: Client,
    /// The statuses reported in the session going on ([`super::statuses`]).
    pub statuses: StatusReports,
}

/// Most reports [`Efota::records`] keeps (a long run reports many operations).
pub const MAX_RECORDS: usize = 256;

impl Efota {
    pub fn new(config: EfotaConfig) -> Efota {
        let client = Client::new(&config.root, &config.info.client_version, config.platform);
        Efota {
            config,
            records: Vec::new(),
            client,
            statuses: StatusReports::default(),
        }
    }

    /// The E-FOTA report of `row` for an operation that ended as `reported` (its correlator the
    /// operation's).
    pub(super) fn report(
        &mut self,
        row: &'static Row,
        reported: &Reported,
        correlator: Option<String>,
    ) -> GenericAlert {
        if self.records.len() < MAX_RECORDS {
            self.records.push(Reported {
                outcome: reported.outcome.clone(),
                table: row.table,
                code: row.code,
                meaning: &row.meaning,
            });
        }
        GenericAlert {
            correlator,
            source_uri: self.config.root.clone(),
            target_uri: None,
            alert_type: efota::ALERT_TYPE.to_string(),
            format: "chr".to_string(),
            mark: Some(mark(&reported.outcome).to_string()),
            data: efota::data(&codes(row)),
        }
    }
}

/// The codes a report of `row` carries: those the row says precede it (a partial result), then
/// its own.
fn codes(row: &Row) -> Vec<i64> {
    row.preceded_by
        .iter()
        .copied()
        .chain(std::iter::once(row.code))
        .collect()
}

impl Agent for Efota {
    fn kind(&self) -> &'static str {
        "knox-efota"
    }

    fn root(&self) -> &str {
        &self.config.root
    }

    fn mount(&self, tree: &mut Tree, server_id: &str, now: SimSeconds) -> Result<(), TreeError> {
        mo::install(tree, &self.config.root, server_id, &self.config.info)?;
        self.client.sync_tree(tree, now);
        Ok(())
    }

    fn owns(&self, uri: &str) -> bool {
        let root = self.config.root.trim_start_matches("./");
        uri.trim_start_matches("./")
            .strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    fn exec(
        &self,
        uri: &str,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Option<Result<Ticket, StatusCode>> {
        self.client.exec(uri, correlator, tree, another_accepted)
    }

    /// An Exec on the `Operations` node runs the operation its Data names, or is refused 403
    /// ([`super::dispatch`]); any other goes to [`Agent::exec`].
    fn exec_with_data(
        &self,
        uri: &str,
        data: Option<&str>,
        correlator: Option<&str>,
        tree: &Tree,
        another_accepted: bool,
    ) -> Option<Result<Ticket, StatusCode>> {
        match dispatch::named(&self.config.root, uri, data, tree) {
            Named::Node => self.exec(uri, correlator, tree, another_accepted),
            Named::Operation(node) => self.exec(&node, correlator, tree, another_accepted),
            Named::NotFound => Some(Err(StatusCode::Forbidden)),
        }
    }

    fn queue(&mut self, ticket: Ticket) {
        self.client.queue(ticket);
    }

    fn replaced(&self, _uri: &str, _tree: &mut Tree, _now: SimSeconds) -> Option<Vec<u8>> {
        None
    }

    fn added(&self, _uri: &str, _tree: &mut Tree, _now: SimSeconds) {}

    fn store(&mut self, _uri: &str, _data: Vec<u8>, _tree: &mut Tree, _now: SimSeconds) {}

    fn has_job(&self) -> bool {
        self.client.has_job()
    }

    fn step(&mut self, input: Input, env: &mut Env<'_>) -> Action {
        self.client.step(input, env)
    }

    fn reported(&mut self) {
        if let Some(reported) = self.client.ending.take() {
            tracing::debug!(%reported, "E-FOTA operation ended");
            if self.records.len() < MAX_RECORDS {
                self.records.push(reported);
            }
        }
    }

    /// The E-FOTA report of another agent's operation: the profile's `knox-efota` row for the
    /// outcome, else for the OMA code reported; none when the profile has no such table.
    fn witness(
        &mut self,
        alert: &GenericAlert,
        reported: &Reported,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        let row = profile.vendor_row(
            Table::KnoxEfota,
            Some(reported.outcome.key()),
            Some((reported.table, reported.code)),
            self.config.platform,
        )?;
        Some(self.report(row, reported, alert.correlator.clone()))
    }

    /// The E-FOTA report of a failed status of a command addressed to the client, once per code
    /// per session ([`super::statuses`]).
    fn status_sent(
        &mut self,
        status: &Status,
        target: Option<&str>,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        self.hear_status(status, target, profile)
    }

    /// The E-FOTA report of a session that failed ([`super::session`]).
    fn session_ended(
        &mut self,
        failure: Option<&Outcome>,
        profile: &'static Profile,
    ) -> Option<GenericAlert> {
        self.hear_session_end(failure, profile)
    }

    fn durable(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.client.durable)
    }

    fn blob(&self) -> (&[u8], bool) {
        (&self.client.bytes, self.client.bytes_dirty)
    }

    fn blob_saved(&mut self) {
        self.client.bytes_dirty = false;
    }

    fn restore(
        &mut self,
        durable: serde_json::Value,
        blob: Vec<u8>,
    ) -> Result<(), serde_json::Error> {
        self.client.restore(durable, blob)
    }

    fn boot(&mut self, tree: &mut Tree, now: SimSeconds) {
        self.client.sync_tree(tree, now);
    }

    fn clone_box(&self) -> Box<dyn Agent> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
