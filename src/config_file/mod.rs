//! The config file as a whole: the sections every part shares (from
//! [`crate::config`]) and each provider's own section, read from its channel
//! (`providers/<name>/config.rs`).
//!
//! A merchant edits one file (`/etc/ordersync/config.toml` by default). Everything in it is
//! checked when it is loaded, so the daemon either starts with a config that makes sense or
//! refuses to start with an error that names the file, the line and the dotted key, and exits
//! [`EX_CONFIG`].
//!
//! A provider section that is present is validated in full even when `enabled = false`, so
//! turning a provider on later (with a SIGHUP reload) cannot surface a latent error; an absent
//! section means the provider is off. [`Config::section`] is the one place that names every
//! provider's section.

mod access;
mod build;
mod raw;
mod secrets;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{
    AlertsConfig, ConfigError, DaemonConfig, InventoryConfig, InvoiceConfig, LoadOptions,
    ProcessEnv, RetryConfig, default_credentials_dir,
};
use crate::providers::credit::atobarai_com::config::AtobaraiComConfig;
use crate::providers::credit::kuroneko::config::KuronekoConfig;
use crate::providers::jgoods::config::JgoodsConfig;
use crate::providers::komoju::config::KomojuConfig;
use crate::providers::rakuten_pay::config::RakutenPayConfig;

pub use crate::config::EX_CONFIG;
pub use access::{credentials_of, unit_credentials};

/// Name of the SQLite file inside [`DaemonConfig::data_dir`].
const DATABASE_FILE: &str = "ordersync.sqlite";

/// The whole, validated configuration. Secrets are already resolved; durations and URLs are
/// already parsed. Built only by [`Config::load`] / [`Config::from_toml_str`], so a value of
/// this type is always consistent. `Serialize` writes the redacted form (secrets as
/// `"<redacted: ...>"`), which is what [`Config::redacted`] prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Listeners, storage, logging: what every deployment needs (`[daemon]`).
    pub daemon: DaemonConfig,
    /// Stock rules shared by every channel (`[inventory]`).
    pub inventory: InventoryConfig,
    /// Backoff policy of the outbox dispatcher (`[retry]`).
    pub retry: RetryConfig,
    /// J-goods marketplace (`[jgoods]`); `None` when the section is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jgoods: Option<JgoodsConfig>,
    /// Rakuten Pay order API (`[rakuten_pay]`); `None` when the section is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rakuten_pay: Option<RakutenPayConfig>,
    /// Kuroneko Atobarai deferred payment (`[kuroneko]`); `None` when the section is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kuroneko: Option<KuronekoConfig>,
    /// Atobarai.com deferred payment (`[atobarai_com]`); `None` when the section is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atobarai_com: Option<AtobaraiComConfig>,
    /// KOMOJU payments (`[komoju]`); `None` when the section is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub komoju: Option<KomojuConfig>,
    /// Yahoo!ショッピング store API (`[yahoo_shopping]`); `None` when the section is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yahoo_shopping: Option<crate::providers::yahoo_shopping::config::YahooShoppingConfig>,
    /// The merchant's details printed on invoices (`[invoice]`); `None` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceConfig>,
    /// Mail and webhook alerts (`[alerts]`); `None` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertsConfig>,
    /// The sender printed on the shipping files' labels (`[carrier_files]`);
    /// `None` when absent (the files then leave the sender to the label program).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_files: Option<crate::config::CarrierFilesConfig>,
    /// The file this config was read from, so errors and `check-config` can name it, and a
    /// SIGHUP reload knows what to re-read.
    #[serde(skip)]
    pub source: PathBuf,
    /// What the file says that still works but should change (a deprecated key, a value
    /// capped), each as `file:line: key: message`; printed by `check-config`, logged by `run`.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Where `{ credential = "x" }` was read from outside systemd (see
    /// [`LoadOptions::credentials_dir`]), kept so a reload reads the same.
    #[serde(skip)]
    pub credentials_dir: PathBuf,
    /// Why the daemon must not serve as configured, each at its key: no admin
    /// token (and no opt-out), a secret of an enabled section that cannot be
    /// read. The other commands run regardless; see [`Config::check_serving`].
    #[serde(skip)]
    pub refusals: Vec<ConfigError>,
}

impl Config {
    /// Reads, parses, resolves secrets and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with(path, &LoadOptions::default())
    }

    /// [`Config::load`] with `options`.
    pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let advice = match e.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    " (the service runs as a dynamic user, DynamicUser=yes, which reads only \
                     what everyone may read: `chmod 0644` the file and keep its secrets in \
                     /etc/ordersync/credentials/ as { credential = \"name\" }; from a shell, \
                     run the command with sudo)"
                }
                _ => "",
            };
            ConfigError::new(path, format!("cannot read the config file: {e}{advice}"))
        })?;
        let credentials_dir = options
            .credentials_dir
            .clone()
            .unwrap_or_else(|| default_credentials_dir(path));
        build::build(&text, path, &ProcessEnv, &credentials_dir)
    }

    /// Parses `text` as if read from `path` (which is only used to name the file in errors,
    /// to resolve relative secret file paths, and as [`Config::source`]). Pass
    /// `Path::new("<inline>")` for text that has no file.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        build::build(text, path, &ProcessEnv, &default_credentials_dir(path))
    }

    /// Whether the daemon may serve as configured: every secret of an enabled
    /// section readable, and `admin_token` set unless `allow_no_admin_token`
    /// (`ordersync run` asks; `check-config` lists them all). The first
    /// refusal, located at its key.
    pub fn check_serving(&self) -> Result<(), ConfigError> {
        match self.refusals.first() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The effective config, defaults filled in, as TOML text for `ordersync check-config`.
    /// Secrets print as `"<redacted: env NAME>"`; absent sections are omitted.
    pub fn redacted(&self) -> String {
        let body = toml::to_string(self)
            .unwrap_or_else(|e| format!("# the effective config cannot be printed: {e}\n"));
        format!(
            "# Effective configuration read from {}\n# (defaults filled in, secrets redacted)\n\n{body}",
            self.source.display()
        )
    }

    /// The SQLite database file: `data_dir/ordersync.sqlite`.
    pub fn database_path(&self) -> PathBuf {
        self.daemon.data_dir.join(DATABASE_FILE)
    }
}
