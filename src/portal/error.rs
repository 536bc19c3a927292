//! The portal's answers to requests it refuses, one variant per cause, each with the seed's code
//! where it has one (profiles/knox-efota.toml, table `knox-efota-portal`), the error key of the
//! answer and its HTTP status: custom codes come under 400 (reference: knox-efota-facts.md,
//! "errors"), wrong access under 403, the portal's own failures under 500.

use crate::server::ApiResponse;

/// A request the portal refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalError {
    #[error("no bearer token, or one the portal did not issue or that has expired")]
    Unauthorized,
    #[error("the token's client may only read ({0} needs full access)")]
    Forbidden(String),
    #[error("wrong client id or secret")]
    BadClient,
    #[error("no such endpoint: {0}")]
    NotFound(String),
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("the body must be JSON (Content-Type application/json)")]
    UnsupportedType,
    #[error("the body is not valid JSON: {0}")]
    BadJson(String),
    #[error("the request is missing or has a wrong field: {0}")]
    BadField(String),
    #[error("{count} devices in one request; at most {max}")]
    TooManyDevices { count: usize, max: usize },
    #[error("no such operation: {0}")]
    UnknownOperation(String),
    // -- the seed's validation codes --
    #[error("the device model {0} does not exist")]
    UnknownModel(String),
    #[error("the device list is empty")]
    EmptyDeviceList,
    #[error("software version {version} of {instance} is missing or does not exist")]
    UnknownSoftwareVersion { instance: String, version: String },
    #[error("software instance {0} is missing or does not exist")]
    UnknownSoftware(String),
    #[error("there is no latest version of {0}")]
    NoLatestVersion(String),
    #[error("trigger {0} does not exist")]
    UnknownTrigger(String),
    #[error("no update from {from} to firmware {to} exists")]
    UnknownUpdate { from: String, to: String },
    #[error("the update file {0} does not exist on the server")]
    MissingUpdateFile(String),
    #[error("firmware version {version} of {model} does not exist")]
    UnknownFirmware { model: String, version: String },
    #[error("version {0} is inactive")]
    InactiveVersion(String),
    #[error("the model {0} has no SCOMO URI")]
    NoScomoUri(String),
    #[error("the required configuration property {0} is missing")]
    MissingProperty(String),
    #[error("version {version} does not suit the model {model}")]
    UnsuitableVersion { version: String, model: String },
    #[error("deployment package {0} does not exist")]
    UnknownPackage(String),
    #[error("deployment package {id} has an invalid version {version:?}")]
    InvalidPackageVersion { id: String, version: String },
    #[error("deployment package {id} is {size} bytes; model {model} takes at most {max}")]
    PackageTooLarge {
        id: String,
        size: u64,
        model: String,
        max: u64,
    },
    #[error("deployment package {id} is encoded {encoding}, which model {model} does not read")]
    UnsupportedEncoding {
        id: String,
        encoding: String,
        model: String,
    },
    #[error("deployment package {id} cannot be signed: no signing key for model {model}")]
    CannotSign { id: String, model: String },
    #[error("an internal error")]
    Internal,
    #[error("an unexpected error")]
    Unexpected,
}

impl PortalError {
    /// The seed's code, for the errors that have one.
    pub fn code(&self) -> Option<i64> {
        use PortalError::*;
        Some(match self {
            UnknownModel(_) => -1,
            EmptyDeviceList => -4,
            UnknownSoftwareVersion { .. } => -7,
            UnknownSoftware(_) => -11,
            NoLatestVersion(_) => -12,
            UnknownTrigger(_) => -16,
            UnknownUpdate { .. } => -17,
            MissingUpdateFile(_) => -18,
            UnknownFirmware { .. } => -19,
            InactiveVersion(_) => -20,
            NoScomoUri(_) => -25,
            MissingProperty(_) => -26,
            UnsuitableVersion { .. } => -27,
            UnknownPackage(_) => -29,
            InvalidPackageVersion { .. } => -30,
            PackageTooLarge { .. } => -31,
            UnsupportedEncoding { .. } => -32,
            CannotSign { .. } => -33,
            Internal => -100,
            Unexpected => -101,
            Unauthorized
            | Forbidden(_)
            | BadClient
            | NotFound(_)
            | MethodNotAllowed { .. }
            | UnsupportedType
            | BadJson(_)
            | BadField(_)
            | TooManyDevices { .. }
            | UnknownOperation(_) => return None,
        })
    }

    /// The answer's error key.
    pub fn key(&self) -> &'static str {
        use PortalError::*;
        match self {
            Unauthorized => "UNAUTHORIZED",
            Forbidden(_) => "FORBIDDEN",
            BadClient => "INVALID_CLIENT",
            NotFound(_) => "NOT_FOUND",
            MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            UnsupportedType => "UNSUPPORTED_MEDIA_TYPE",
            BadJson(_) => "INVALID_JSON",
            BadField(_) => "INVALID_REQUEST",
            TooManyDevices { .. } => "TOO_MANY_DEVICES",
            UnknownOperation(_) => "OPERATION_NOT_FOUND",
            UnknownModel(_) => "MODEL_NOT_FOUND",
            EmptyDeviceList => "EMPTY_DEVICE_LIST",
            UnknownSoftwareVersion { .. } => "SOFTWARE_VERSION_NOT_FOUND",
            UnknownSoftware(_) => "SOFTWARE_INSTANCE_NOT_FOUND",
            NoLatestVersion(_) => "LATEST_VERSION_NOT_FOUND",
            UnknownTrigger(_) => "TRIGGER_NOT_FOUND",
            UnknownUpdate { .. } => "UPDATE_NOT_FOUND",
            MissingUpdateFile(_) => "UPDATE_FILE_NOT_FOUND",
            UnknownFirmware { .. } => "FIRMWARE_VERSION_NOT_FOUND",
            InactiveVersion(_) => "VERSION_INACTIVE",
            NoScomoUri(_) => "SCOMO_URI_NOT_FOUND",
            MissingProperty(_) => "CONFIGURATION_PROPERTY_NOT_FOUND",
            UnsuitableVersion { .. } => "VERSION_NOT_SUITABLE",
            UnknownPackage(_) => "DEPLOYMENT_PACKAGE_NOT_FOUND",
            InvalidPackageVersion { .. } => "DEPLOYMENT_PACKAGE_VERSION_INVALID",
            PackageTooLarge { .. } => "DEPLOYMENT_PACKAGE_TOO_LARGE",
            UnsupportedEncoding { .. } => "DEPLOYMENT_PACKAGE_ENCODING_UNSUPPORTED",
            CannotSign { .. } => "DEPLOYMENT_PACKAGE_NOT_SIGNED",
            Internal => "INTERNAL_ERROR",
            Unexpected => "UNEXPECTED_ERROR",
        }
    }

    /// The answer's HTTP status.
    pub fn status(&self) -> u16 {
        use PortalError::*;
        match self {
            Unauthorized | BadClient => 401,
            Forbidden(_) => 403,
            NotFound(_) | UnknownOperation(_) => 404,
            MethodNotAllowed { .. } => 405,
            UnsupportedType => 415,
            Internal | Unexpected => 500,
            _ => 400,
        }
    }

    /// The answer.
    pub fn response(&self) -> ApiResponse {
        ApiResponse::error(self.status(), self.code(), self.key(), &self.to_string())
    }
}
