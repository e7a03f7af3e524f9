//! `[komoju]`: the KOMOJU section of the config file, as read and checked.

use serde::{Deserialize, Serialize};

use crate::config::reader::is_iso_date;
use crate::config::{ConfigError, ProviderSection, Secret, SecretSpec, SectionReader};

/// The API base of the wire contract.
const API: &str = "https://komoju.com/api/v1";
/// The API version pinned when the file does not say.
const API_VERSION: &str = "2025-01-28";

/// `[komoju]`: KOMOJU payments (webhooks in, capture/refund out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KomojuConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// API base, no trailing `/`. Default `https://komoju.com/api/v1`.
    pub api_base_url: String,
    /// Secret API key (HTTP Basic user name); live or test is decided by the key.
    pub secret_key: Secret,
    /// HMAC key of the `X-Komoju-Signature` webhook header.
    pub webhook_secret: Secret,
    /// `X-KOMOJU-API-VERSION`, pinned so an upstream change cannot alter the wire silently.
    /// A date, default `2025-01-28`.
    pub api_version: String,
    /// Capture authorized payments when the order ships (rather than at authorization).
    /// Default true.
    pub capture_on_ship: bool,
    /// The merchant's own KOMOJU merchant id (Platform Model): the account
    /// balance transfers to and from sellers go between. `None` (the
    /// default) when the merchant sells no seller's goods.
    pub platform_id: Option<String>,
}

/// `[komoju]` as the file spells it; checked by [`read`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKomoju {
    /// [`KomojuConfig::enabled`].
    pub enabled: Option<bool>,
    /// [`KomojuConfig::api_base_url`].
    pub api_base_url: Option<String>,
    /// [`KomojuConfig::secret_key`].
    pub secret_key: Option<SecretSpec>,
    /// [`KomojuConfig::webhook_secret`].
    pub webhook_secret: Option<SecretSpec>,
    /// [`KomojuConfig::api_version`].
    pub api_version: Option<String>,
    /// [`KomojuConfig::capture_on_ship`].
    pub capture_on_ship: Option<bool>,
    /// [`KomojuConfig::platform_id`].
    pub platform_id: Option<String>,
}

/// Reads and checks the section: defaults, required keys, secrets.
pub fn read(r: &SectionReader<'_>, raw: RawKomoju) -> Result<KomojuConfig, ConfigError> {
    let enabled = raw.enabled.unwrap_or(false);
    let api_version = raw.api_version.unwrap_or_else(|| API_VERSION.to_owned());
    if !is_iso_date(&api_version) {
        return Err(r.err(
            "komoju.api_version",
            "must be a date like 2025-01-28 (the KOMOJU API version)",
        ));
    }
    let platform_id = raw.platform_id.map(|s| s.trim().to_string());
    if platform_id.as_deref().is_some_and(|id| {
        id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric())
    }) {
        return Err(r.err(
            "komoju.platform_id",
            "must be the merchant's KOMOJU merchant id (letters and digits)",
        ));
    }
    Ok(KomojuConfig {
        enabled,
        api_base_url: r.base_url("komoju.api_base_url", raw.api_base_url, API)?,
        secret_key: r.secret("komoju.secret_key", raw.secret_key, enabled)?,
        webhook_secret: r.secret("komoju.webhook_secret", raw.webhook_secret, enabled)?,
        api_version,
        capture_on_ship: raw.capture_on_ship.unwrap_or(true),
        platform_id,
    })
}

impl ProviderSection for KomojuConfig {
    fn enabled(&self) -> bool {
        self.enabled
    }

    fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        vec![
            ("komoju.secret_key", &self.secret_key),
            ("komoju.webhook_secret", &self.webhook_secret),
        ]
    }
}
