//! A Snom m3 base's update settings: the firmware server (possibly unset: Code 6), the HTTP
//! credentials, the update folder on the server (`Updates/` unless set, as the real base), the
//! selected version and language, and the flash sizes the files must fit (Code 4).

use base64::Engine;

/// The folder the base asks for its files in unless told otherwise.
pub const DEFAULT_FOLDER: &str = "Updates/";
/// The language of the files unless told otherwise.
pub const DEFAULT_LANGUAGE: &str = "fr01";
/// The gateway's flash for one firmware image unless told otherwise (dmsim's choice: 4 MiB).
pub const DEFAULT_GATEWAY_FLASH: u32 = 4 * 1024 * 1024;
/// A handset's flash for one firmware image unless told otherwise (dmsim's choice: 2 MiB).
pub const DEFAULT_HANDSET_FLASH: u32 = 2 * 1024 * 1024;

/// HTTP Basic credentials (RFC 7617).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl Credentials {
    /// The `Authorization` header value: `Basic base64(user:password)`.
    pub fn header(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// What the base's update needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnomConfig {
    /// The firmware server's URL (`http://fw.example.com/`), `None` when not configured.
    pub server: Option<String>,
    pub credentials: Option<Credentials>,
    /// The folder on the server, relative to the server URL, ending in `/` (or empty).
    pub folder: String,
    /// The version to install, four digits (`0790`).
    pub version: String,
    /// The language of the files to fetch (`fr01`).
    pub language: String,
    /// The most bytes a gateway `.fwu` body may have.
    pub gateway_flash: u32,
    /// The most bytes a handset `.fwu` body may have.
    pub handset_flash: u32,
}

impl SnomConfig {
    /// A configuration selecting `version`, with no server and the defaults.
    pub fn new(version: impl Into<String>) -> SnomConfig {
        SnomConfig {
            server: None,
            credentials: None,
            folder: DEFAULT_FOLDER.to_string(),
            version: version.into(),
            language: DEFAULT_LANGUAGE.to_string(),
            gateway_flash: DEFAULT_GATEWAY_FLASH,
            handset_flash: DEFAULT_HANDSET_FLASH,
        }
    }

    pub fn with_server(mut self, server: impl Into<String>) -> SnomConfig {
        self.server = Some(server.into());
        self
    }

    pub fn with_credentials(mut self, user: &str, password: &str) -> SnomConfig {
        self.credentials = Some(Credentials {
            user: user.to_string(),
            password: password.to_string(),
        });
        self
    }

    /// The URL of a file in the update folder: the server URL (a `/` added when it lacks one),
    /// the folder, the file name. `None` without a server (an empty setting counts as none).
    pub fn file_url(&self, file: &str) -> Option<String> {
        let server = self
            .server
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())?;
        let slash = if server.ends_with('/') { "" } else { "/" };
        let folder = self.folder.trim_start_matches('/');
        Some(format!("{server}{slash}{folder}{file}"))
    }

    /// The `Authorization` header the base sends, when it has credentials.
    pub fn authorization(&self) -> Option<String> {
        self.credentials.as_ref().map(Credentials::header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_in_the_folder_of_the_server() {
        let c = SnomConfig::new("0790").with_server("http://fw.example.com");
        assert_eq!(
            c.file_url("DirList.txt").as_deref(),
            Some("http://fw.example.com/Updates/DirList.txt")
        );
        let mut c = c.with_server("http://fw.example.com/root/");
        c.folder = "/group1/".into();
        assert_eq!(
            c.file_url("a.fwu").as_deref(),
            Some("http://fw.example.com/root/group1/a.fwu")
        );
        assert_eq!(SnomConfig::new("0790").file_url("x"), None);
        assert_eq!(
            SnomConfig::new("0790").with_server("  ").file_url("x"),
            None
        );
    }

    #[test]
    fn basic_credentials_are_rfc_7617() {
        // RFC 7617 §2's example.
        let c = SnomConfig::new("0790").with_credentials("Aladdin", "open sesame");
        assert_eq!(
            c.authorization().as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(SnomConfig::new("0790").authorization(), None);
    }
}
