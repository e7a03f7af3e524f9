//! What every section of the config file is made of, and the sections every
//! part shares. The file as a whole is [`crate::config_file`]; each
//! provider's section lives in its channel (`providers/<name>/config.rs`) and
//! is read with the same [`SectionReader`], so every error names the file,
//! the line and the dotted key
//! (`/etc/ordersync/config.toml:14: jgoods.webhook_auth: unknown variant ...`).
//!
//! How the pieces fit:
//! - `raw` holds the serde shapes of the shared sections (`deny_unknown_fields`,
//!   everything optional);
//! - `document` keeps the spans of every key so any error, even one found after
//!   parsing, can point at a line;
//! - [`reader`] is [`SectionReader`]: located errors and warnings, secrets, the
//!   checks every section shares; `sections` reads the shared sections with it;
//! - `secret` is [`Secret`] and its sources (`env`, `file`, `credential`, inline);
//! - `files` decides which file to read and warns about unsafe permissions;
//! - [`ProviderSection`] is what each provider's section tells the rest.

mod alerts;
pub mod document;
pub mod duration_text;
mod error;
pub mod files;
mod language;
pub mod raw;
pub mod reader;
pub mod secret;
mod sections;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use alerts::{AlertsConfig, EmailAlerts, SmtpTls, WebhookAlerts};
pub use error::ConfigError;
pub use files::{
    CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH, LoadOptions, default_credentials_dir, permission_warnings,
    resolve_path,
};
pub use language::Language;
pub use reader::SectionReader;
pub use secret::{Environment, ProcessEnv, Secret, SecretSpec, SecretUnreadable, Sources};
pub use sections::{CarrierFilesConfig, RawCarrierFiles};

/// What a provider's section tells the rest of ordersync, whatever the
/// provider: the config file, `check-config`, `credentials init` and the
/// status summary read every provider's section through it.
pub trait ProviderSection {
    /// `enabled = true`: the provider is used. A section present but off is
    /// still checked in full, so turning it on later cannot surface an error.
    fn enabled(&self) -> bool;

    /// Its secrets, by their dotted key (`jgoods.client_secret`).
    fn secrets(&self) -> Vec<(&'static str, &Secret)>;

    /// How often it polls (the J-goods sweep included); `None` when it
    /// only pushes.
    fn poll_interval(&self) -> Option<Duration> {
        None
    }
}

/// Exit status for a bad configuration (`EX_CONFIG` from `sysexits.h`). The systemd unit sets
/// `RestartPreventExitStatus=78`, so a daemon that cannot start because of its config is not
/// restarted in a loop.
pub const EX_CONFIG: i32 = 78;

/// `[daemon]`: where the daemon listens, stores and logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DaemonConfig {
    /// Directory of the SQLite database (the daemon's whole state); systemd's
    /// `StateDirectory=ordersync` creates the default `/var/lib/ordersync`.
    pub data_dir: PathBuf,
    /// Webhook listener (J-goods, KOMOJU). Default `0.0.0.0:8080`; put TLS in front of it.
    pub listen: SocketAddr,
    /// Admin API, `/healthz` and `/metrics` for the ERP. Default `127.0.0.1:8081`; a
    /// non-loopback address is only accepted together with an `admin_token`.
    pub admin_listen: SocketAddr,
    /// Bearer token the admin API demands. Optional on loopback, where the machine's own
    /// users are trusted.
    pub admin_token: Option<Secret>,
    /// Log output format; `auto` picks journald under systemd and text on a terminal.
    pub log_format: LogFormat,
    /// The console's language: `ja` or `en`; unset, the locale's (`LANG`
    /// starting with `en` gives English), Japanese otherwise.
    pub language: Language,
    /// Timeout of every outbound HTTP call to a provider (default 30 s), so a hung provider
    /// cannot stall the dispatcher.
    #[serde(serialize_with = "duration_text::serialize")]
    pub http_timeout: Duration,
    /// Longest a request to the webhook listener may take, its body included
    /// (default 30 s): a client that sends its body slowly is answered 408 and
    /// cut off rather than holding a connection and a task open for ever.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Accept a missing `admin_token` on a loopback `admin_listen` (default
    /// false: the token is required, since without it any web page the
    /// operator opens could post to the admin API through the browser).
    pub allow_no_admin_token: bool,
    /// Host names the admin listener answers to (default `["localhost"]`);
    /// any IP literal is accepted too. Another `Host` is refused (DNS rebinding).
    pub admin_hosts: Vec<String>,
    /// Longest a client may take to send a request's headers, and longest a
    /// keep-alive connection may sit idle between requests (default 10 s).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Connections the webhook listener keeps open at once (default 1024);
    /// the excess is closed as soon as it is accepted.
    pub max_connections: usize,
    /// ... of those, from one source address (default 64), so one client
    /// cannot take every slot.
    pub max_connections_per_source: usize,
    /// Connections the admin listener keeps open at once (default 64); its
    /// own budget, so a flood of the webhook listener leaves it reachable.
    pub admin_max_connections: usize,
    /// ... of those, from one source address (default 32, at most
    /// `admin_max_connections`): one local user cannot take them all from
    /// the ERP.
    pub admin_max_connections_per_source: usize,
    /// Longest a write to a client may make no progress (default 10 s): a
    /// client that sends requests but never reads the answers is cut off.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
    /// Answers on one connection before it is closed (default 1000), on both
    /// listeners: pipelining cannot keep a connection open for ever.
    pub max_requests_per_connection: usize,
    /// Refused webhook deliveries written per provider and reason each
    /// minute (default 60); the rest are counted in the metrics and logged,
    /// not written, so a flood costs no disk.
    pub refused_webhooks_per_minute: u32,
    /// Reverse proxies (addresses or CIDR networks, default none) whose
    /// `X-Forwarded-For` / `Forwarded: for=` name the client: the per-source
    /// limits, `webhook_allow_from`, the login limiter and the refused
    /// webhooks then see the client, not the proxy. From any other peer the
    /// headers are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Connections one trusted proxy may hold open on each listener (default
    /// 1024, at most the listener's own cap); behind it the per-source cap
    /// counts each forwarded client's requests in flight.
    pub proxy_max_connections: usize,
    /// Most MiB read of any provider's answer (default 8): every documented
    /// answer but the pages below fits in a fraction of it, and a larger one
    /// (a wrong URL, a hostile or broken endpoint) must not take the memory.
    pub max_provider_answer_mib: usize,
    /// Most MiB read of the largest documented pages (default 32): Rakuten's
    /// `getOrder` (100 whole orders) and `items/search`; never below
    /// `max_provider_answer_mib`.
    pub max_provider_page_mib: usize,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("/var/lib/ordersync"),
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            admin_token: None,
            log_format: LogFormat::Auto,
            language: Language::Ja,
            http_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            allow_no_admin_token: false,
            admin_hosts: vec!["localhost".to_string()],
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_connections_per_source: 64,
            admin_max_connections: 64,
            admin_max_connections_per_source: 32,
            write_timeout: Duration::from_secs(10),
            max_requests_per_connection: 1000,
            refused_webhooks_per_minute: 60,
            trusted_proxies: Vec::new(),
            proxy_max_connections: 1024,
            max_provider_answer_mib: 8,
            max_provider_page_mib: 32,
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// journald when `JOURNAL_STREAM` is set (running under systemd), text otherwise.
    #[default]
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
    /// Native journald fields.
    Journald,
}

/// `[inventory]`: stock rules shared by every channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InventoryConfig {
    /// Units per SKU held back from every channel (`available = on_hand − reserved −
    /// safety_stock`), a buffer against the ERP's count being slightly stale. Default 0.
    pub safety_stock: u32,
    /// Release an order's reservations when its deferred-payment credit check says NG, so the
    /// stock can be sold elsewhere. Default true.
    pub release_on_credit_ng: bool,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            safety_stock: 0,
            release_on_credit_ng: true,
        }
    }
}

/// `[retry]`: how the dispatcher retries outbound calls before declaring them dead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetryConfig {
    /// First backoff delay (default 2 s); it doubles (with jitter) on each failure.
    #[serde(serialize_with = "duration_text::serialize")]
    pub initial_delay: Duration,
    /// Ceiling of the backoff delay (default 10 min).
    #[serde(serialize_with = "duration_text::serialize")]
    pub max_delay: Duration,
    /// After this long (default 24 h) a call is dead and its order needs a person.
    #[serde(serialize_with = "duration_text::serialize")]
    pub give_up_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(10 * 60),
            give_up_after: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// `[invoice]`: the merchant's details on the invoices it issues (qualified invoices,
/// 適格請求書, need the registration number).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceConfig {
    /// The merchant's legal name, as registered.
    pub issuer_name: String,
    /// 適格請求書発行事業者登録番号: `T` followed by 13 digits.
    pub registration_number: String,
    /// Who the invoices are addressed to.
    pub addressee: String,
    /// Bank account printed for payment (bank, branch, type, number, holder).
    pub bank_account: String,
    /// Prefix of invoice numbers. Default `INV-`.
    pub number_prefix: String,
}
