//! How an update flow ended, in the flow's own terms: which operation, in which phase, for what
//! cause, and what was rolled back. Flows end with an [`Outcome`]; they never choose a result code.
//! A [`profile`](crate::profile) turns an outcome into the codes a device reports (the OMA profile
//! into FUMO results and DL statuses, vendor profiles into their own codes), so one flow serves
//! every code set.
//!
//! An outcome is named in profile files as `<phase>.<cause>` (`download.not-found`,
//! `install.verify-failed`); [`REACHABLE`] lists every pair a flow can end with, and a profile must
//! map each of them (tests check both directions).
//!
//! A DM session that failed before it got through ends the same way (operation and phase
//! `session`: `session.authentication-failed`, `session.timeout`, `session.server-error`), for the
//! clients that report their sessions in codes of their own (the Knox E-FOTA client). No FUMO or
//! SCOMO flow ends so ([`Key::in_session`]), so the OMA tables need no row for them.

use std::fmt;

/// What the server asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// Fetch a package and keep it (FUMO Download).
    Download,
    /// Install a package the device holds (FUMO Update).
    Install,
    /// Both, one after the other (FUMO DownloadAndUpdate, SCOMO DownloadInstall).
    DownloadAndInstall,
    /// Install a package the device holds, its components left inactive (SCOMO InstallInactive).
    InstallInactive,
    /// Fetch and install, the components left inactive (SCOMO DownloadInstallInactive).
    DownloadAndInstallInactive,
    /// Make an installed component active (SCOMO Activate).
    Activate,
    /// Make an installed component inactive (SCOMO Deactivate).
    Deactivate,
    /// Remove a delivered package or an installed component (SCOMO Remove).
    Remove,
    /// Fetch the E-FOTA client's license (Knox E-FOTA `Operations/RetrieveLicense`).
    RetrieveLicense,
    /// Apply a configuration profile to the device (Knox E-FOTA `Operations/InstallProfile`).
    InstallProfile,
    /// Download items through OMA Download and install them into the E-FOTA client's inventory
    /// (Knox E-FOTA `Operations/DownloadItems`).
    DownloadItems,
    /// Not an operation the server asked for but the DM session every operation goes through: how
    /// a session failed, which a client that reports its sessions (the Knox E-FOTA client) reports.
    Session,
    /// The Snom m3 base station's own firmware update of its gateway and handsets over HTTP (not
    /// OMA-DM: the base fetches a DirList and `.fwu` files and shows "Code N").
    FirmwareUpdate,
}

crate::codes::code_table! {
    /// Where in the flow it ended.
    #[derive(PartialOrd, Ord)]
    pub enum Phase {
        /// Before anything is fetched: the job is accepted, the operation is supported, the
        /// device may download.
        Start = "start";
        /// The OMA Download transaction: descriptor, object, checks against the descriptor.
        Download = "download";
        /// Between the download and the install: battery, the user's consent, the version running.
        Checks = "checks";
        /// The A/B install: verify the package, write, reboot, verify the new firmware, commit or
        /// roll back; for SCOMO, the components of a delivery package one after the other, and
        /// the removal of those installed when one fails.
        Install = "install";
        /// SCOMO, on a device that verifies and rolls back
        /// ([`ScomoConfig::verify_and_rollback`](crate::scomo::ScomoConfig::verify_and_rollback)):
        /// the post-update verification of every component the job installed (its installed file
        /// read back and compared with the package's hash and version), and the rollback to the
        /// source versions when one fails.
        Verify = "verify";
        /// SCOMO, on a device that verifies and rolls back: a trial install the server asked to be
        /// returned to the source versions once it succeeded (Exec Data
        /// `rollback=after-install`), and that rollback.
        Trial = "trial";
        /// SCOMO: making an installed component active.
        Activate = "activate";
        /// SCOMO: making an installed component inactive.
        Deactivate = "deactivate";
        /// SCOMO: removing a delivered package or an installed component.
        Remove = "remove";
        /// Knox E-FOTA: fetching, validating and storing the client's license.
        License = "license";
        /// Knox E-FOTA: checking and applying a configuration profile.
        Config = "config";
        /// Knox E-FOTA: an item of `DownloadItems` after (or instead of) its OMA Download: the
        /// client's checks of its descriptor, its content handler's install, and how the items of
        /// one operation ended together.
        Item = "item";
        /// A DM session with the server, which failed before it got through (the server kept
        /// refusing the device's credentials, did not answer in time, or failed). Only a client
        /// that reports its sessions has codes for these (the Knox E-FOTA client); they end no
        /// FUMO or SCOMO flow, so the OMA tables have none ([`Key::in_session`]).
        Session = "session";
        /// Snom m3: the base's own firmware update, around its fetches (which end in the
        /// `download` phase with the fetch causes): the server setting, the name lookup, the
        /// DirList, the checks of the selected version and of the `.fwu` files, the flash writes
        /// ([`Key::in_snom`]).
        Update = "update";
    }
}

crate::codes::code_table! {
    /// Why it ended.
    #[derive(PartialOrd, Ord)]
    pub enum Cause {
        /// It did what was asked.
        Succeeded = "succeeded";
        /// Nothing to do: the package's target version already runs.
        AlreadyInstalled = "already-installed";
        /// The device failed in a way it cannot name (the `fumo.start` fault `internal.error`, an
        /// install that could not begin or ended without an outcome).
        InternalError = "internal-error";
        /// The device does not support the operation.
        NotImplemented = "not-implemented";
        /// An install was asked for and the device holds no package.
        NoPackage = "no-package";
        /// Downloads are not allowed while roaming.
        Roaming = "roaming";
        /// The device is not ready for the operation: a node the device's update client keeps to
        /// say it is ready ([`engine::Preconditions::device_ready`](crate::engine::Preconditions))
        /// is not in its tree.
        NotReady = "not-ready";
        /// The update installer is not installed and enabled: the node of its inventory
        /// ([`engine::Preconditions::inventory`](crate::engine::Preconditions)) is not in the tree.
        NoInventory = "no-inventory";
        /// Another transaction is in progress: an operation accepted while the agent's job was
        /// queued or running, aborted and reported on its own (SCOMO, when the device is set up to
        /// take such an Exec instead of refusing it).
        TransactionInProgress = "transaction-in-progress";
        /// The battery is below what an install needs.
        BatteryLow = "battery-low";
        /// The device is locked (its screen lock is on) when the install would begin: it is not
        /// ready for the update.
        DeviceLocked = "device-locked";
        /// Other services of the device are running (a call in progress, another service busy)
        /// when the install would begin.
        ServicesBusy = "services-busy";
        /// The user never answered the device's prompt to accept the installation conditions; it
        /// timed out.
        ConditionsTimeout = "conditions-timeout";
        /// The package URL is not a URL the device can fetch.
        BadUrl = "bad-url";
        /// The content server refused the device's credentials (HTTP 401).
        AuthenticationFailed = "authentication-failed";
        /// The TLS handshake with the content server failed.
        TlsFailed = "tls-failed";
        /// The content server forbade the download (HTTP 403: typically an expired URL).
        Forbidden = "forbidden";
        /// The content server has no such package (HTTP 404).
        NotFound = "not-found";
        /// The content server said it is unavailable (HTTP 503).
        ServerUnavailable = "server-unavailable";
        /// The content server could not be reached at all.
        Unreachable = "unreachable";
        /// The content server did not answer in time; for a configuration profile, applying it took
        /// longer than the E-FOTA client waits.
        Timeout = "timeout";
        /// The network went away in the middle of the transfer.
        ConnectionLost = "connection-lost";
        /// The content server failed (HTTP 5xx other than 503).
        ServerError = "server-error";
        /// The content server answered with a status the device cannot use.
        UnexpectedStatus = "unexpected-status";
        /// A partial answer did not continue where the device asked it to.
        BadRange = "bad-range";
        /// A partial answer whose range cannot be (its end overflows).
        ImpossibleRange = "impossible-range";
        /// The connection failed below HTTP for another reason.
        Transport = "transport";
        /// The download descriptor is not a valid descriptor.
        InvalidDescriptor = "invalid-descriptor";
        /// The download descriptor is of a DD version the device does not support.
        InvalidDdVersion = "invalid-dd-version";
        /// Not enough storage for the object.
        InsufficientStorage = "insufficient-storage";
        /// The object is of a type the device does not accept.
        NonAcceptableContent = "non-acceptable-content";
        /// The object's size is not the descriptor's.
        SizeMismatch = "size-mismatch";
        /// The object's type is not one the descriptor named.
        TypeMismatch = "type-mismatch";
        /// The object's hash is not the descriptor's.
        HashMismatch = "hash-mismatch";
        /// The object changed on the server between two parts of one download: a resumed answer
        /// carries another validator (`ETag`, else `Last-Modified`) than the bytes held.
        ObjectChanged = "object-changed";
        /// The user said no when asked.
        UserRejected = "user-rejected";
        /// The user cancelled.
        UserCancelled = "user-cancelled";
        /// The user never answered; the prompt timed out.
        UserIgnored = "user-ignored";
        /// The device gave up on its own.
        DeviceAborted = "device-aborted";
        /// The package does not parse (bad magic, unknown format, truncated, hash or length wrong).
        PackageCorrupt = "package-corrupt";
        /// The package was built for another model.
        WrongModel = "wrong-model";
        /// The package's signature does not verify with the device's trusted key.
        SignatureInvalid = "signature-invalid";
        /// The package updates another version than the one running.
        WrongFromVersion = "wrong-from-version";
        /// Not enough memory to install.
        OutOfMemory = "out-of-memory";
        /// A component of the package needs an execution environment the device does not have.
        UnsupportedEnvironment = "unsupported-environment";
        /// Writing the new firmware failed; for a configuration profile, the device's settings
        /// store refused the write.
        WriteFailed = "write-failed";
        /// Installing one component of a delivery package failed (those installed before it are
        /// rolled back).
        ComponentFailed = "component-failed";
        /// Removing, activating or deactivating what the device holds failed; it stays as it was.
        OperationFailed = "operation-failed";
        /// A component cannot be removed while it is in use (Active), on a device that says so.
        InUse = "in-use";
        /// The new firmware failed its post-update verification.
        VerifyFailed = "verify-failed";
        /// Rolling back failed: after a failure (the install or its verification), or when the
        /// server asked for it (a trial install); writing a source version back failed.
        RollbackFailed = "rollback-failed";
        /// SCOMO: after a failure, every component the job replaced was returned to its source
        /// version (the previous version's file, kept until the job ends) and those it added were
        /// removed.
        RolledBack = "rolled-back";
        /// SCOMO: the rollback failed because a source version file is missing or does not read
        /// back as it was kept (its hash).
        SourceMissing = "source-missing";
        /// The power went out and the install could not be finished.
        PowerLost = "power-lost";
        /// The package would downgrade: its target version is older than the one running (a
        /// firmware) or deployed (a component), which the device refuses.
        Downgrade = "downgrade";
        /// The delivery package names the devices (DevIds) or the software version it is for,
        /// and this device is not one of them, or runs another version.
        TargetMismatch = "target-mismatch";
        /// The delivery package's validity (declared in it) ended on the device's clock: the copy
        /// it stores is no longer valid.
        PackageExpired = "package-expired";
        /// The delivery package's format is invalid: its manifest lists a component whose payload
        /// is not in the package, or carries what the device cannot read.
        InvalidFormat = "invalid-format";
        /// A certificate of the package or of a component fails to validate against the device's
        /// trust anchor (or is not valid yet).
        CertificateInvalid = "certificate-invalid";
        /// A certificate of the package or of a component expired on the device's clock.
        CertificateExpired = "certificate-expired";
        /// A component is for a sub-device (an attached peripheral) the device does not have: it
        /// was skipped, the others installed.
        SubDeviceMissing = "sub-device-missing";
        /// A component is not at the version the operation asked for: the install was not
        /// attempted.
        VersionMismatch = "version-mismatch";
        /// A package the delivery package requires is not installed (the operation that was to
        /// install it failed): the install was skipped.
        PrerequisiteMissing = "prerequisite-missing";
        /// The license file is not a license (it does not parse).
        LicenseInvalid = "license-invalid";
        /// The license's expiry date has passed on the device's clock.
        LicenseExpired = "license-expired";
        /// The license was issued for another device.
        WrongDevice = "wrong-device";
        /// A setting of a configuration profile is not valid: a malformed line, a standard key the
        /// client does not know, a value of the wrong type or out of range.
        InvalidSetting = "invalid-setting";
        /// A custom setting (`custom.*`) of a configuration profile that the device does not
        /// support.
        UnsupportedSetting = "unsupported-setting";
        /// The additional data of a configuration profile failed validation (its checksum).
        InvalidProfileData = "invalid-profile-data";
        /// No content handler of the device takes the item's type (judged from its descriptor,
        /// before the download).
        UnsupportedContent = "unsupported-content";
        /// The device lacks what the item requires (a newer client, a feature).
        RequirementsNotMet = "requirements-not-met";
        /// The content handler's environment refused the item with a status of its own.
        HandlerFailed = "handler-failed";
        /// The items of one operation ended differently.
        ItemsDiffered = "items-differed";
        /// Snom m3: no firmware update server is configured.
        NoServer = "no-server";
        /// Snom m3: the selected firmware version is not listed in the DirList.
        VersionNotListed = "version-not-listed";
        /// Snom m3: the DirList is not well formed (a line that cannot be read, a bad number, a
        /// section that lacks a file).
        DirlistSyntax = "dirlist-syntax";
        /// Snom m3: the DirList is well formed text of another format or format version (often a
        /// file fetched from the wrong folder).
        DirlistUnknownFormat = "dirlist-unknown-format";
        /// Snom m3: the firmware server's name could not be resolved to an address (NXDOMAIN,
        /// SERVFAIL, no address, no answer from the DNS server).
        NameLookupFailed = "name-lookup-failed";
        /// Snom m3: a firmware file is larger than the flash it is written to.
        TooBig = "too-big";
        /// Snom m3: a downloaded `.fwu` file is not what the base expected (bad header, wrong
        /// part, version or language, wrong size, checksum).
        WrongFormat = "wrong-format";
        /// Snom m3: the firmware update API was used in a way it does not allow (an update started
        /// while one runs, a handset update without the base update a version requires).
        ApiMisuse = "api-misuse";
    }
}

/// A phase is written by its name (`download`).
impl serde::Serialize for Phase {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A cause is written by its name (`not-found`).
impl serde::Serialize for Cause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Cause {
    /// Whether the operation did what the server wanted (nothing left to do counts).
    pub fn is_success(self) -> bool {
        matches!(self, Cause::Succeeded | Cause::AlreadyInstalled)
    }
}

/// What an install's rollback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rollback {
    /// Nothing had to be undone (the flow ended before the device switched firmware, or it
    /// succeeded).
    #[default]
    NotNeeded,
    /// The device had switched to the new firmware and switched back cleanly (SCOMO: every
    /// component the job installed was removed or returned to its source version).
    Done,
    /// The rollback failed (FUMO: the bootloader's fallback brought the old firmware back; SCOMO:
    /// the components not yet rolled back stay as the job left them).
    Failed,
}

/// How a flow ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub operation: Operation,
    pub phase: Phase,
    pub cause: Cause,
    pub rollback: Rollback,
    /// What the flow knows beyond the cause, for people (for example "the connection was lost
    /// after 4096 bytes"); never used to choose a code.
    pub detail: Option<String>,
}

impl Outcome {
    /// An outcome with nothing rolled back and no detail.
    pub fn new(operation: Operation, phase: Phase, cause: Cause) -> Outcome {
        Outcome {
            operation,
            phase,
            cause,
            rollback: Rollback::NotNeeded,
            detail: None,
        }
    }

    /// The same outcome, with a detail for people.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Outcome {
        self.detail = Some(detail.to_string());
        self
    }

    /// Whether the operation did what the server wanted.
    pub fn is_success(&self) -> bool {
        self.cause.is_success()
    }

    /// The name profile files use: `<phase>.<cause>`.
    pub fn key(&self) -> Key {
        Key(self.phase, self.cause)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key())?;
        match self.rollback {
            Rollback::NotNeeded => {}
            Rollback::Done => f.write_str(", rolled back")?,
            Rollback::Failed => f.write_str(", rollback failed")?,
        }
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

/// An outcome as profile files name it: phase and cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub Phase, pub Cause);

impl Key {
    /// Parse `<phase>.<cause>`.
    pub fn parse(text: &str) -> Option<Key> {
        let (phase, cause) = text.split_once('.')?;
        Some(Key(Phase::parse(phase)?, Cause::parse(cause)?))
    }

    /// Whether a flow can end this way.
    pub fn is_reachable(self) -> bool {
        REACHABLE.contains(&self)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Every way an update flow can end. Each flow's tests check that what it produces is listed
/// here, and each profile maps every entry (the download phase's entries to DL statuses too).
pub const REACHABLE: &[Key] = {
    use Cause::*;
    use Phase::*;
    &[
        Key(Start, InternalError),
        Key(Start, NotImplemented),
        Key(Start, NoPackage),
        Key(Start, Roaming),
        Key(Start, NotReady),
        Key(Start, NoInventory),
        Key(Start, TransactionInProgress),
        Key(Download, Succeeded),
        Key(Download, BadUrl),
        Key(Download, AuthenticationFailed),
        Key(Download, TlsFailed),
        Key(Download, Forbidden),
        Key(Download, NotFound),
        Key(Download, ServerUnavailable),
        Key(Download, Unreachable),
        Key(Download, Timeout),
        Key(Download, ConnectionLost),
        Key(Download, ServerError),
        Key(Download, UnexpectedStatus),
        Key(Download, BadRange),
        Key(Download, ImpossibleRange),
        Key(Download, Transport),
        Key(Download, InvalidDescriptor),
        Key(Download, InvalidDdVersion),
        Key(Download, InsufficientStorage),
        Key(Download, NonAcceptableContent),
        Key(Download, SizeMismatch),
        Key(Download, TypeMismatch),
        Key(Download, HashMismatch),
        Key(Download, ObjectChanged),
        Key(Download, UserRejected),
        Key(Download, UserCancelled),
        Key(Download, UserIgnored),
        Key(Download, DeviceAborted),
        Key(Checks, BatteryLow),
        Key(Checks, DeviceLocked),
        Key(Checks, ServicesBusy),
        Key(Checks, ConditionsTimeout),
        Key(Checks, UserRejected),
        Key(Checks, UserCancelled),
        Key(Checks, UserIgnored),
        Key(Checks, AlreadyInstalled),
        Key(Checks, InternalError),
        Key(Checks, PrerequisiteMissing),
        Key(Checks, VersionMismatch),
        Key(Checks, InsufficientStorage),
        Key(Install, Succeeded),
        Key(Install, PackageCorrupt),
        Key(Install, WrongModel),
        Key(Install, SignatureInvalid),
        Key(Install, WrongFromVersion),
        Key(Install, OutOfMemory),
        Key(Install, UnsupportedEnvironment),
        Key(Install, WriteFailed),
        Key(Install, VerifyFailed),
        Key(Install, RollbackFailed),
        Key(Install, PowerLost),
        Key(Install, InternalError),
        Key(Install, ComponentFailed),
        Key(Install, Downgrade),
        Key(Install, TargetMismatch),
        Key(Install, PackageExpired),
        Key(Install, InvalidFormat),
        Key(Install, CertificateInvalid),
        Key(Install, CertificateExpired),
        Key(Install, SubDeviceMissing),
        Key(Install, RolledBack),
        Key(Install, SourceMissing),
        Key(Verify, Succeeded),
        Key(Verify, RolledBack),
        Key(Verify, RollbackFailed),
        Key(Verify, SourceMissing),
        Key(Trial, Succeeded),
        Key(Trial, RollbackFailed),
        Key(Trial, SourceMissing),
        Key(Activate, Succeeded),
        Key(Activate, OperationFailed),
        Key(Deactivate, Succeeded),
        Key(Deactivate, OperationFailed),
        Key(Remove, Succeeded),
        Key(Remove, OperationFailed),
        Key(Remove, InUse),
        Key(Session, AuthenticationFailed),
        Key(Session, Timeout),
        Key(Session, ServerError),
        Key(License, Succeeded),
        Key(License, BadUrl),
        Key(License, AuthenticationFailed),
        Key(License, TlsFailed),
        Key(License, Forbidden),
        Key(License, NotFound),
        Key(License, ServerUnavailable),
        Key(License, Unreachable),
        Key(License, Timeout),
        Key(License, ConnectionLost),
        Key(License, ServerError),
        Key(License, UnexpectedStatus),
        Key(License, BadRange),
        Key(License, ImpossibleRange),
        Key(License, Transport),
        Key(License, InsufficientStorage),
        Key(License, SizeMismatch),
        Key(License, LicenseInvalid),
        Key(License, SignatureInvalid),
        Key(License, WrongDevice),
        Key(License, LicenseExpired),
        Key(Config, Succeeded),
        Key(Config, InvalidSetting),
        Key(Config, UnsupportedSetting),
        Key(Config, InvalidProfileData),
        Key(Config, WriteFailed),
        Key(Config, Timeout),
        Key(Item, Succeeded),
        Key(Item, UnsupportedContent),
        Key(Item, AlreadyInstalled),
        Key(Item, RequirementsNotMet),
        Key(Item, HandlerFailed),
        Key(Item, ItemsDiffered),
        Key(Update, Succeeded),
        Key(Update, NoServer),
        Key(Update, NameLookupFailed),
        Key(Update, DirlistSyntax),
        Key(Update, DirlistUnknownFormat),
        Key(Update, VersionNotListed),
        Key(Update, TooBig),
        Key(Update, WrongFormat),
        Key(Update, WriteFailed),
        Key(Update, ApiMisuse),
    ]
};

/// The causes a Snom m3 base's fetch of its DirList or a `.fwu` file can end with, in the
/// `download` phase: a whole document taken as it comes (no ranges, no descriptor), so
/// [`FETCH_CAUSES`] without the range and storage causes (the base checks sizes itself, as
/// `update.too-big`).
pub const SNOM_FETCH_CAUSES: &[Cause] = {
    use Cause::*;
    &[
        BadUrl,
        AuthenticationFailed,
        TlsFailed,
        Forbidden,
        NotFound,
        ServerUnavailable,
        Unreachable,
        Timeout,
        ConnectionLost,
        ServerError,
        UnexpectedStatus,
        Transport,
    ]
};

/// The causes a fetch of a whole small document (a license) can fail with: those of a direct OMA
/// Download whose answer is taken as it comes (no descriptor, no prompt, nothing resumed).
pub const FETCH_CAUSES: &[Cause] = {
    use Cause::*;
    &[
        BadUrl,
        AuthenticationFailed,
        TlsFailed,
        Forbidden,
        NotFound,
        ServerUnavailable,
        Unreachable,
        Timeout,
        ConnectionLost,
        ServerError,
        UnexpectedStatus,
        BadRange,
        ImpossibleRange,
        Transport,
        InsufficientStorage,
        SizeMismatch,
    ]
};

impl Key {
    /// Whether a FUMO flow can end this way (the outcomes the `fumo-result` table maps): all but
    /// the operations on components and the checks of what only delivery packages carry
    /// (components, terms, certificates).
    pub fn in_fumo(self) -> bool {
        use Cause::*;
        match self.0 {
            Phase::Verify
            | Phase::Trial
            | Phase::Activate
            | Phase::Deactivate
            | Phase::Remove
            | Phase::Session => false,
            Phase::License | Phase::Config | Phase::Item | Phase::Update => false,
            Phase::Install => !matches!(
                self.1,
                UnsupportedEnvironment
                    | ComponentFailed
                    | RolledBack
                    | SourceMissing
                    | TargetMismatch
                    | PackageExpired
                    | InvalidFormat
                    | CertificateInvalid
                    | CertificateExpired
                    | SubDeviceMissing
            ),
            Phase::Checks => !matches!(
                self.1,
                PrerequisiteMissing | VersionMismatch | InsufficientStorage
            ),
            // FUMO refuses an Exec while a job is queued (SyncML 409): no transaction of its own is
            // ever aborted for another.
            Phase::Start => self.1 != TransactionInProgress,
            Phase::Download => true,
        }
    }

    /// Whether a SCOMO flow can end this way (the outcomes the `scomo-result` table maps): every
    /// download outcome, the checks before an install, the checks of a delivery package and the
    /// install of its components (and its rollback), their verification and trial installs, and
    /// the operations on installed components.
    pub fn in_scomo(self) -> bool {
        use Cause::*;
        match self.0 {
            Phase::Start => matches!(
                self.1,
                Roaming
                    | InternalError
                    | NotImplemented
                    | NotReady
                    | NoInventory
                    | TransactionInProgress
            ),
            Phase::Download => true,
            Phase::Checks => matches!(
                self.1,
                BatteryLow
                    | DeviceLocked
                    | ServicesBusy
                    | ConditionsTimeout
                    | UserRejected
                    | UserCancelled
                    | UserIgnored
                    | AlreadyInstalled
                    | PrerequisiteMissing
                    | VersionMismatch
                    | InsufficientStorage
            ),
            Phase::Install => matches!(
                self.1,
                Succeeded
                    | PackageCorrupt
                    | SignatureInvalid
                    | OutOfMemory
                    | UnsupportedEnvironment
                    | ComponentFailed
                    | RollbackFailed
                    | Downgrade
                    | TargetMismatch
                    | PackageExpired
                    | InvalidFormat
                    | CertificateInvalid
                    | CertificateExpired
                    | SubDeviceMissing
                    | RolledBack
                    | SourceMissing
            ),
            Phase::Verify | Phase::Trial | Phase::Activate | Phase::Deactivate | Phase::Remove => {
                true
            }
            Phase::License | Phase::Config | Phase::Item | Phase::Session | Phase::Update => false,
        }
    }

    /// Whether a flow of the Knox E-FOTA client's own ends this way, in one of its own phases
    /// (license, config, item): outcomes no OMA table has a code for, which only a vendor report
    /// table (`knox-efota`) maps. (An item whose OMA Download fails ends in the download phase,
    /// whose outcomes FUMO and SCOMO share, with its DL status.)
    pub fn in_efota(self) -> bool {
        use Cause::*;
        match self.0 {
            Phase::License => {
                FETCH_CAUSES.contains(&self.1)
                    || matches!(
                        self.1,
                        Succeeded
                            | LicenseInvalid
                            | SignatureInvalid
                            | WrongDevice
                            | LicenseExpired
                    )
            }
            Phase::Config => matches!(
                self.1,
                Succeeded
                    | InvalidSetting
                    | UnsupportedSetting
                    | InvalidProfileData
                    | WriteFailed
                    | Timeout
            ),
            Phase::Item => matches!(
                self.1,
                Succeeded
                    | UnsupportedContent
                    | AlreadyInstalled
                    | RequirementsNotMet
                    | HandlerFailed
                    | ItemsDiffered
            ),
            _ => false,
        }
    }

    /// Whether a DM session can end this way: a session that failed before it got through, which
    /// only a client that reports its sessions maps (Knox E-FOTA's -2406, -2407, -5000); FUMO and
    /// SCOMO have no result for it.
    pub fn in_session(self) -> bool {
        self.0 == Phase::Session
    }

    /// Whether a Snom m3 base's firmware update can end this way (the outcomes the `snom-m3` table
    /// maps): its fetches in the `download` phase ([`SNOM_FETCH_CAUSES`]), and its own `update`
    /// phase. No OMA table has codes for the `update` phase.
    pub fn in_snom(self) -> bool {
        match self.0 {
            Phase::Download => SNOM_FETCH_CAUSES.contains(&self.1),
            Phase::Update => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        for &key in REACHABLE {
            assert_eq!(Key::parse(&key.to_string()), Some(key));
        }
        let mut sorted = REACHABLE.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), REACHABLE.len(), "an outcome listed twice");
        assert_eq!(Key::parse("download"), None);
        assert_eq!(Key::parse("download.nope"), None);
        assert_eq!(Key::parse("nope.not-found"), None);
    }

    #[test]
    fn every_outcome_ends_exactly_one_kind_of_flow() {
        for &key in REACHABLE {
            // The download phase is shared by FUMO, SCOMO and the Snom m3 base's fetches.
            let flows = [
                key.in_fumo() || key.in_scomo() || key.in_snom(),
                key.in_efota(),
                key.in_session(),
            ];
            assert_eq!(
                flows.iter().filter(|&&f| f).count(),
                1,
                "{key} ends no flow, or more than one kind (update, E-FOTA client, session)"
            );
        }
        for &cause in FETCH_CAUSES {
            assert!(Key(Phase::License, cause).is_reachable(), "{cause}");
        }
        for &key in REACHABLE.iter().filter(|k| k.in_efota()) {
            assert!(
                matches!(key.0, Phase::License | Phase::Config | Phase::Item),
                "{key}"
            );
        }
        for phase in [Phase::License, Phase::Config, Phase::Item] {
            for &cause in Cause::ALL {
                let key = Key(phase, cause);
                assert_eq!(key.in_efota(), key.is_reachable(), "{key}");
            }
        }
        for &cause in SNOM_FETCH_CAUSES {
            let key = Key(Phase::Download, cause);
            assert!(
                key.is_reachable() && key.in_snom() && key.in_fumo(),
                "{key}"
            );
        }
        for &key in REACHABLE.iter().filter(|k| k.0 == Phase::Update) {
            assert!(key.in_snom() && !key.in_fumo() && !key.in_scomo(), "{key}");
        }
        assert!(!Key(Phase::Download, Cause::BadRange).in_snom());
        assert!(Key(Phase::Download, Cause::ObjectChanged).in_fumo());
        assert!(!Key(Phase::Config, Cause::Timeout).in_scomo());
        let session = Key(Phase::Session, Cause::Timeout);
        assert!(session.in_session() && !session.in_fumo() && !session.in_scomo());
        assert!(!Key(Phase::Download, Cause::Timeout).in_session());
        let install = |cause| Key(Phase::Install, cause);
        assert!(install(Cause::UnsupportedEnvironment).in_scomo());
        assert!(!install(Cause::UnsupportedEnvironment).in_fumo());
        assert!(!install(Cause::WrongModel).in_scomo());
        assert!(Key(Phase::Download, Cause::NotFound).in_fumo());
        assert!(Key(Phase::Download, Cause::NotFound).in_scomo());
        assert!(!Key(Phase::Activate, Cause::Succeeded).in_fumo());
        // A downgrade is refused by both agents; the terms and certificates are delivery
        // packages' only, the checks before a SCOMO install too.
        assert!(install(Cause::Downgrade).in_fumo() && install(Cause::Downgrade).in_scomo());
        for cause in [
            Cause::TargetMismatch,
            Cause::PackageExpired,
            Cause::InvalidFormat,
            Cause::CertificateInvalid,
            Cause::CertificateExpired,
            Cause::SubDeviceMissing,
        ] {
            assert!(
                install(cause).in_scomo() && !install(cause).in_fumo(),
                "{cause}"
            );
        }
        for cause in [
            Cause::PrerequisiteMissing,
            Cause::VersionMismatch,
            Cause::InsufficientStorage,
        ] {
            let key = Key(Phase::Checks, cause);
            assert!(key.in_scomo() && !key.in_fumo(), "{key}");
        }
        let start = |cause| Key(Phase::Start, cause);
        assert!(start(Cause::TransactionInProgress).in_scomo());
        assert!(!start(Cause::TransactionInProgress).in_fumo());
        for cause in [Cause::NotReady, Cause::NoInventory] {
            assert!(start(cause).in_fumo() && start(cause).in_scomo(), "{cause}");
        }
        for cause in [
            Cause::DeviceLocked,
            Cause::ServicesBusy,
            Cause::ConditionsTimeout,
        ] {
            let key = Key(Phase::Checks, cause);
            assert!(key.in_fumo() && key.in_scomo(), "{key}");
        }
    }

    #[test]
    fn every_cause_ends_some_flow() {
        for &cause in Cause::ALL {
            assert!(
                REACHABLE.iter().any(|k| k.1 == cause),
                "{cause} is reachable in no phase"
            );
        }
    }

    #[test]
    fn an_outcome_reads_as_its_key_rollback_and_detail() {
        let mut o = Outcome::new(
            Operation::DownloadAndInstall,
            Phase::Install,
            Cause::VerifyFailed,
        )
        .with_detail("slot b did not boot");
        o.rollback = Rollback::Done;
        assert_eq!(
            o.to_string(),
            "install.verify-failed, rolled back (slot b did not boot)"
        );
        assert!(!o.is_success());
        assert!(
            Outcome::new(Operation::Install, Phase::Checks, Cause::AlreadyInstalled).is_success()
        );
    }
}
