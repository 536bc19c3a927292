//! `Operations/RetrieveLicense`: the E-FOTA client fetches its license from the URL the server set
//! in `License/URL`, checks it and keeps it.
//!
//! | step | what happens |
//! | --- | --- |
//! | fetch attempt *n* | one GET of the license through the download agent, as a document ([`DownloadRequest::as_document`]: the answer whole, as it comes); a network or availability failure is tried again ([`crate::engine::retry_after`]: after 30 s, then 60 s), any other ends the job |
//! | check and keep | the license's format and signature ([`verify_license`]), then its device and expiry against the device's id and clock ([`License::check`](crate::package::license::License::check)); a good one is kept (`License/Status` = `retrieved`, `License/Key`, `License/Expires`) and reported in the same save |
//!
//! It ends in the `license` phase: `license.succeeded` (956), or the cause it failed for: the
//! fetch's ([`crate::outcome::FETCH_CAUSES`]: `not-found`, `server-error`, `unreachable`, …) or
//! the license's (`license-invalid`, `signature-invalid`, `wrong-device`, `license-expired`), all
//! 957. A failed retrieval leaves a license kept before as it was.
//!
//! [`DownloadRequest::as_document`]: crate::download::DownloadRequest::as_document

use super::client::{Client, Ending, Step};
use crate::download::{DownloadOutcome, Partial};
use crate::engine::{self, Env, Input};
use crate::outcome::{self, Cause, Operation, Outcome, FETCH_CAUSES};
use crate::package::license::verify_license;
use serde::{Deserialize, Serialize};

/// A license retrieval, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseJob {
    /// `License/URL` when the Exec came.
    pub url: String,
    /// Fetch attempts made so far.
    pub attempts: u32,
}

impl LicenseJob {
    pub fn new(url: String) -> LicenseJob {
        LicenseJob { url, attempts: 0 }
    }
}

fn ended(cause: Cause) -> Outcome {
    Outcome::new(Operation::RetrieveLicense, outcome::Phase::License, cause)
}

/// One step of the job.
pub(super) fn step(
    job: &mut LicenseJob,
    client: &mut Client,
    input: Input,
    env: &mut Env<'_>,
) -> Step {
    let outcome = match input {
        Input::Resume => {
            let request = engine::download_request(&job.url, job.attempts, env).as_document();
            return Step::Download {
                request,
                partial: Partial::new(),
            };
        }
        Input::Downloaded { outcome, .. } => *outcome,
    };
    let platform = client.platform;
    match outcome {
        DownloadOutcome::Downloaded { bytes, .. } => {
            let device = env
                .tree
                .value_str("./DevInfo/DevId")
                .unwrap_or("")
                .to_string();
            let checked = verify_license(&bytes, &client.config.trusted)
                .and_then(|license| license.check(&device, env.now).map(|()| license));
            match checked {
                Ok(license) => {
                    let detail = format!("key {}, valid through {}", license.key, license.expires);
                    client.keep_license(license, env.tree, env.now);
                    Step::Finish(Ending::of(
                        ended(Cause::Succeeded).with_detail(detail),
                        env,
                        platform,
                    ))
                }
                Err(e) => Step::Finish(Ending::of(ended(e.cause()).with_detail(&e), env, platform)),
            }
        }
        DownloadOutcome::Failed { cause, .. } => match engine::retry_after(&cause, job.attempts) {
            Some(seconds) => {
                tracing::debug!(%cause, attempt = job.attempts + 1, "license fetch failed; trying again later");
                job.attempts = job.attempts.saturating_add(1);
                Step::Wait(seconds)
            }
            None => {
                let mut reason = cause.cause();
                if !FETCH_CAUSES.contains(&reason) {
                    tracing::error!(%cause, "a document fetch failed in a way a document fetch cannot");
                    reason = Cause::Transport;
                }
                Step::Finish(Ending::of(ended(reason).with_detail(&cause), env, platform))
            }
        },
    }
}
