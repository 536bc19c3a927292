//! A Snom m3 base's firmware update, as a sans-IO state machine: [`UpdateJob::step`] takes what
//! happened ([`Input`]) and says what to do next ([`Action`]); the driver
//! ([`super::run_update`]) does it (look a name up, fetch, write the flash, reboot) and feeds the
//! result back. Every ending is an [`Outcome`] of the `update` or `download` phase, and its display
//! code comes from the base's profile ([`SnomCodes`]), never from here.
//!
//! | stage | what the base does | ends with (code in `snom-m3`) |
//! | --- | --- | --- |
//! | start | a server is configured | `update.no-server` (6) |
//! | [`Stage::Resolving`] | looks the server's name up (skipped for an IP literal); the content client connects to what it found (`net::LookedUp`) | `update.name-lookup-failed` (11); a server setting that is no http URL: `download.bad-url` (2) |
//! | [`Stage::DirList`] | GET `<server>/<folder>DirList.txt` (with `Authorization: Basic …` when credentials are set) | the fetch's cause: 401 `authentication-failed` (12), 404 `not-found` (3), no answer in time `timeout` (5), any other status or network failure (2); a body too long for the client `update.too-big` (4) |
//! | | reads the DirList | `update.dirlist-syntax` (9), `update.dirlist-unknown-format` (10) |
//! | | finds the selected version in the selected language | `update.version-not-listed` (1) |
//! | | a handset-only update of a version that `requires = both`, the gateway not on it | `update.api-misuse` (8) |
//! | | the listed sizes fit the flash | `update.too-big` (4) |
//! | [`Stage::GatewayFile`] | GET the gateway `.fwu`, check it: header, part `Gw`, version, language, listed size, checksum; the body fits the flash | the fetch's cause; `update.wrong-format` (7); `update.too-big` (4) |
//! | [`Stage::GatewayFlash`], [`Stage::Reboot`] | writes it (A/B) and reboots into it | `update.write-failed` (7) |
//! | [`Stage::HandsetFile`], [`Stage::HandsetFlash`] | the same for the handset `.fwu` (part `Pp`), written to every handset | as above |
//! | | — | `update.succeeded` (0) |
//!
//! An update asked for while this one runs ([`Input::StartRequested`]) is refused: the base shows
//! `update.api-misuse` (8) and this one goes on. A handset-only update ([`Request::HandsetsOnly`])
//! skips the gateway's file.
//!
//! dmsim's choices where the seed leaves them: the language must be one the version lists, else
//! Code 1 (the selected software is not in the DirList); a `.fwu` whose header reads and names the
//! expected part, version and language but whose body is larger than the flash is Code 4 (a file
//! that does not parse, or names another part, version or language, is Code 7); a flash write failure is Code 7 (the seed's "a number of errors"); a power
//! loss ends the job with no code (the base reboots on the old or the new gateway image).

use super::resolver::LookupError;
use crate::download::FetchError;
use crate::outcome::{Cause, Key, Operation, Outcome, Phase, REACHABLE};
use crate::package::snom::dirlist::{self, DirListError};
use crate::package::snom::{Fwu, Part, Version, DIRLIST_FILE};
use crate::profile::Profile;
use crate::protocol::http::{BodyEnd, ContentResponse};
use std::net::IpAddr;

use super::config::SnomConfig;

/// Which update was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// The gateway, then the handsets.
    Full,
    /// The handsets only.
    HandsetsOnly,
}

/// Where the job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Start,
    Resolving,
    DirList,
    GatewayFile,
    GatewayFlash,
    Reboot,
    HandsetFile,
    HandsetFlash,
    Done,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Look `host` up; answer [`Input::Resolved`] or [`Input::LookupFailed`].
    Resolve { host: String },
    /// GET `url`; answer [`Input::Fetched`].
    Fetch {
        url: String,
        authorization: Option<String>,
    },
    /// Write a checked `.fwu` body of `part` at `version`; answer [`Input::Flashed`] or
    /// [`Input::FlashFailed`].
    Flash {
        part: Part,
        version: String,
        body: Vec<u8>,
    },
    /// Reboot into the new gateway image; answer [`Input::Rebooted`].
    Reboot,
    /// Show "Code `code`" on the display, for `outcome`.
    Show { code: u8, outcome: Outcome },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Begin.
    Start,
    Resolved(Vec<IpAddr>),
    LookupFailed(LookupError),
    Fetched(Result<ContentResponse, FetchError>),
    Flashed,
    FlashFailed(String),
    Rebooted,
    /// Someone asked for another update meanwhile.
    StartRequested,
}

/// A profile checked to give every ending of the update a display code.
#[derive(Debug, Clone, Copy)]
pub struct SnomCodes {
    profile: &'static Profile,
}

/// Why a profile cannot be a Snom base's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile {profile} has no snom-m3 display code 0-12 for {key}")]
pub struct NoSnomCode {
    pub profile: String,
    pub key: Key,
}

impl SnomCodes {
    /// The profile, if it maps every outcome of the update ([`Key::in_snom`]) to a code 0-12.
    pub fn new(profile: &'static Profile) -> Result<SnomCodes, NoSnomCode> {
        for &key in REACHABLE.iter().filter(|k| k.in_snom()) {
            let code = profile.snom_row(key).map(|r| r.code);
            if !code.is_some_and(|c| (0..=12).contains(&c)) {
                return Err(NoSnomCode {
                    profile: profile.name().to_string(),
                    key,
                });
            }
        }
        Ok(SnomCodes { profile })
    }

    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    /// The display code of an ending (total: checked by [`SnomCodes::new`]).
    pub fn code(&self, key: Key) -> u8 {
        self.profile
            .snom_row(key)
            .and_then(|r| u8::try_from(r.code).ok())
            .unwrap_or_else(|| unreachable!("SnomCodes::new checked {key}"))
    }
}

/// The job.
#[derive(Debug, Clone)]
pub struct UpdateJob {
    config: SnomConfig,
    codes: SnomCodes,
    request: Request,
    /// The gateway's version when the job began.
    gateway_version: String,
    stage: Stage,
    version: Option<Version>,
    outcome: Option<Outcome>,
}

fn update(cause: Cause) -> Outcome {
    Outcome::new(Operation::FirmwareUpdate, Phase::Update, cause)
}

fn download(cause: Cause) -> Outcome {
    Outcome::new(Operation::FirmwareUpdate, Phase::Download, cause)
}

impl UpdateJob {
    pub fn new(
        config: SnomConfig,
        codes: SnomCodes,
        request: Request,
        gateway_version: &str,
    ) -> UpdateJob {
        UpdateJob {
            config,
            codes,
            request,
            gateway_version: gateway_version.to_string(),
            stage: Stage::Start,
            version: None,
            outcome: None,
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// How it ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// One step.
    pub fn step(&mut self, input: Input) -> Vec<Action> {
        if input == Input::StartRequested {
            if self.stage == Stage::Done {
                return Vec::new();
            }
            let misuse = update(Cause::ApiMisuse)
                .with_detail("an update was asked for while one runs; this one goes on");
            return vec![self.show(misuse)];
        }
        match (self.stage, input) {
            (Stage::Start, Input::Start) => self.begin(),
            (Stage::Resolving, Input::Resolved(_)) => self.fetch_dirlist(),
            (Stage::Resolving, Input::LookupFailed(e)) => {
                self.finish(update(Cause::NameLookupFailed).with_detail(e))
            }
            (Stage::DirList, Input::Fetched(answer)) => match fetched(answer) {
                Ok(body) => self.read_dirlist(&body),
                Err(outcome) => self.finish(outcome),
            },
            (Stage::GatewayFile, Input::Fetched(answer)) => match fetched(answer) {
                Ok(body) => self.check_file(Part::Gateway, body),
                Err(outcome) => self.finish(outcome),
            },
            (Stage::HandsetFile, Input::Fetched(answer)) => match fetched(answer) {
                Ok(body) => self.check_file(Part::Handset, body),
                Err(outcome) => self.finish(outcome),
            },
            (Stage::GatewayFlash, Input::Flashed) => {
                self.stage = Stage::Reboot;
                vec![Action::Reboot]
            }
            (Stage::Reboot, Input::Rebooted) => self.fetch_file(Part::Handset),
            (Stage::HandsetFlash, Input::Flashed) => {
                let version = self.config.version.clone();
                self.finish(
                    update(Cause::Succeeded)
                        .with_detail(format!("the gateway and the handsets run {version}")),
                )
            }
            (
                Stage::GatewayFlash | Stage::Reboot | Stage::HandsetFlash,
                Input::FlashFailed(reason),
            ) => self.finish(update(Cause::WriteFailed).with_detail(reason)),
            (stage, input) => {
                tracing::warn!(
                    ?stage,
                    ?input,
                    "an input the update does not expect now; ignored"
                );
                Vec::new()
            }
        }
    }

    fn show(&self, outcome: Outcome) -> Action {
        Action::Show {
            code: self.codes.code(outcome.key()),
            outcome,
        }
    }

    fn finish(&mut self, outcome: Outcome) -> Vec<Action> {
        self.stage = Stage::Done;
        let show = self.show(outcome.clone());
        self.outcome = Some(outcome);
        vec![show]
    }

    fn begin(&mut self) -> Vec<Action> {
        let Some(url) = self.config.file_url(DIRLIST_FILE) else {
            return self.finish(update(Cause::NoServer));
        };
        let parsed = match reqwest::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                return self.finish(
                    download(Cause::BadUrl)
                        .with_detail(format!("the server setting gives {url:?}, not an http URL")),
                )
            }
        };
        let host = parsed.host_str().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if literal.parse::<IpAddr>().is_ok() {
            // An address needs no lookup.
            return self.fetch_dirlist();
        }
        self.stage = Stage::Resolving;
        vec![Action::Resolve {
            host: host.to_string(),
        }]
    }

    fn fetch(&self, file: &str) -> Action {
        Action::Fetch {
            url: self.config.file_url(file).unwrap_or_default(),
            authorization: self.config.authorization(),
        }
    }

    fn fetch_dirlist(&mut self) -> Vec<Action> {
        self.stage = Stage::DirList;
        vec![self.fetch(DIRLIST_FILE)]
    }

    fn fetch_file(&mut self, part: Part) -> Vec<Action> {
        let Some(version) = &self.version else {
            return self.finish(update(Cause::ApiMisuse).with_detail("no version was chosen"));
        };
        let action = self.fetch(&version.file(part).file);
        self.stage = match part {
            Part::Gateway => Stage::GatewayFile,
            Part::Handset => Stage::HandsetFile,
        };
        vec![action]
    }

    fn read_dirlist(&mut self, body: &[u8]) -> Vec<Action> {
        let list = match dirlist::parse_bytes(body) {
            Ok(list) => list,
            Err(e @ DirListError::UnknownFormat { .. }) => {
                return self.finish(update(Cause::DirlistUnknownFormat).with_detail(e))
            }
            Err(e) => return self.finish(update(Cause::DirlistSyntax).with_detail(e)),
        };
        let selected = &self.config.version;
        let Some(version) = list.version(selected).cloned() else {
            return self.finish(
                update(Cause::VersionNotListed)
                    .with_detail(format!("version {selected} is not in the DirList")),
            );
        };
        let language = &self.config.language;
        if !version.languages.iter().any(|l| l == language) {
            return self.finish(update(Cause::VersionNotListed).with_detail(format!(
                "version {selected} is not listed in language {language}"
            )));
        }
        if self.request == Request::HandsetsOnly
            && version.requires_both
            && self.gateway_version != *selected
        {
            return self.finish(update(Cause::ApiMisuse).with_detail(format!(
                "a handset update to {selected} needs the base update to it first (the gateway runs {})",
                self.gateway_version
            )));
        }
        for &part in self.parts() {
            let listed = version.file(part).size;
            let flash = self.flash(part);
            if listed > flash {
                return self.finish(update(Cause::TooBig).with_detail(format!(
                    "the {part} file is {listed} bytes, the flash holds {flash}"
                )));
            }
        }
        self.version = Some(version);
        let first = self.parts()[0];
        self.fetch_file(first)
    }

    fn parts(&self) -> &'static [Part] {
        match self.request {
            Request::Full => &[Part::Gateway, Part::Handset],
            Request::HandsetsOnly => &[Part::Handset],
        }
    }

    fn flash(&self, part: Part) -> u32 {
        match part {
            Part::Gateway => self.config.gateway_flash,
            Part::Handset => self.config.handset_flash,
        }
    }

    fn check_file(&mut self, part: Part, bytes: Vec<u8>) -> Vec<Action> {
        let Some(version) = &self.version else {
            return self.finish(update(Cause::ApiMisuse).with_detail("no version was chosen"));
        };
        let listed = version.file(part).size;
        let checked = match Fwu::parse(&bytes) {
            Err(e) => Err(update(Cause::WrongFormat).with_detail(format!("the {part} file: {e}"))),
            Ok(fwu) => {
                let h = &fwu.header;
                let flash = self.flash(part);
                if h.part != part {
                    Err(format!("the {part} file holds the {} part", h.part))
                } else if h.version != self.config.version {
                    Err(format!("the {part} file is of version {}", h.version))
                } else if h.language != self.config.language {
                    Err(format!("the {part} file is in language {}", h.language))
                } else if fwu.body.len() as u64 > u64::from(flash) {
                    return self.finish(update(Cause::TooBig).with_detail(format!(
                        "the {part} file's body is {} bytes, the flash holds {flash}",
                        fwu.body.len()
                    )));
                } else if h.body_size != listed {
                    Err(format!(
                        "the {part} file's body is {} bytes, the DirList says {listed}",
                        h.body_size
                    ))
                } else {
                    Ok(fwu.body.to_vec())
                }
                .map_err(|detail| update(Cause::WrongFormat).with_detail(detail))
            }
        };
        match checked {
            Err(outcome) => self.finish(outcome),
            Ok(body) => {
                self.stage = match part {
                    Part::Gateway => Stage::GatewayFlash,
                    Part::Handset => Stage::HandsetFlash,
                };
                vec![Action::Flash {
                    part,
                    version: self.config.version.clone(),
                    body,
                }]
            }
        }
    }
}

/// The body of a fetch that got the whole file, or how the fetch ended.
fn fetched(answer: Result<ContentResponse, FetchError>) -> Result<Vec<u8>, Outcome> {
    let response = match answer {
        Ok(r) => r,
        Err(e) => {
            let cause = match &e {
                FetchError::BadUrl(_) => Cause::BadUrl,
                FetchError::Unreachable(_) => Cause::Unreachable,
                FetchError::Timeout => Cause::Timeout,
                FetchError::ConnectionLost { .. } => Cause::ConnectionLost,
                FetchError::Tls(_) => Cause::TlsFailed,
                FetchError::Other(_) => Cause::Transport,
            };
            return Err(download(cause).with_detail(e));
        }
    };
    let status = response.status;
    let cause = match status {
        200 => None,
        401 => Some(Cause::AuthenticationFailed),
        403 => Some(Cause::Forbidden),
        404 => Some(Cause::NotFound),
        503 => Some(Cause::ServerUnavailable),
        500..=599 => Some(Cause::ServerError),
        _ => Some(Cause::UnexpectedStatus),
    };
    if let Some(cause) = cause {
        return Err(download(cause).with_detail(format!("HTTP {status}")));
    }
    let received = response.body.len() as u64;
    match response.end {
        BodyEnd::Complete => match response.content_length {
            Some(announced) if announced != received => Err(download(Cause::ConnectionLost)
                .with_detail(format!("{received} of {announced} bytes arrived"))),
            _ => Ok(response.body),
        },
        BodyEnd::ConnectionLost => Err(download(Cause::ConnectionLost)
            .with_detail(format!("the connection dropped after {received} bytes"))),
        BodyEnd::TimedOut => Err(download(Cause::Timeout)
            .with_detail(format!("the time ran out after {received} bytes"))),
        BodyEnd::TooLarge => {
            Err(update(Cause::TooBig).with_detail("the file is larger than the base reads"))
        }
    }
}
