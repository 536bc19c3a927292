//! The profiles built into dmsim, from `profiles/` of the repository.

use super::Profile;
use std::sync::LazyLock;

/// The profile simulated devices use unless told otherwise.
pub const DEFAULT: &str = "dmsim";

static OMA: LazyLock<Profile> = LazyLock::new(|| parse(include_str!("../../profiles/oma.toml")));
static DMSIM: LazyLock<Profile> =
    LazyLock::new(|| parse(include_str!("../../profiles/dmsim.toml")));
static KNOX_EFOTA: LazyLock<Profile> =
    LazyLock::new(|| parse(include_str!("../../profiles/knox-efota.toml")));
static SNOM_M3: LazyLock<Profile> =
    LazyLock::new(|| parse(include_str!("../../profiles/snom-m3.toml")));

/// A built-in profile file, which the tests parse: a refusal here is a defect of the repository.
fn parse(text: &str) -> Profile {
    Profile::parse(text, builtin)
        .unwrap_or_else(|e| panic!("a built-in profile is broken (cargo test names it): {e}"))
}

/// Every built-in profile, bases first.
pub fn builtins() -> [&'static Profile; 4] {
    [
        LazyLock::force(&OMA),
        LazyLock::force(&DMSIM),
        LazyLock::force(&KNOX_EFOTA),
        LazyLock::force(&SNOM_M3),
    ]
}

/// The names of the built-in profiles, for messages.
pub const NAMES: &str = "oma, dmsim, knox-efota, snom-m3";

/// A built-in profile by name.
pub fn builtin(name: &str) -> Option<&'static Profile> {
    match name {
        "oma" => Some(LazyLock::force(&OMA)),
        "dmsim" => Some(LazyLock::force(&DMSIM)),
        "knox-efota" => Some(LazyLock::force(&KNOX_EFOTA)),
        "snom-m3" => Some(LazyLock::force(&SNOM_M3)),
        _ => None,
    }
}

/// The profile simulated devices use unless a scenario or flag names another.
pub fn default_profile() -> &'static Profile {
    LazyLock::force(&DMSIM)
}
