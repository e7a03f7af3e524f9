//! The TOML configuration: schema, defaults, secret sources and validation.
//!
//! A merchant edits one file (`/etc/ordersync/config.toml` by default). Everything in it is
//! checked when it is loaded, so the daemon either starts with a config that makes sense or
//! refuses to start with an error that names the file, the line and the dotted key
//! (`/etc/ordersync/config.toml:14: jgoods.webhook_auth: unknown variant ...`), and exits
//! [`EX_CONFIG`].
//!
//! How the pieces fit:
//! - `raw` holds the serde shapes of the file (`deny_unknown_fields`, everything optional);
//! - `document` keeps the spans of every key so any error, even one found after parsing,
//!   can point at a line;
//! - `build` turns the raw shapes into the public types below: defaults, required keys,
//!   secret resolution, cross-checks;
//! - `secret` is [`Secret`] and its sources (`env`, `file`, `credential`, inline);
//! - `files` decides which file to read and warns about unsafe permissions.
//!
//! A provider section that is present is validated in full even when `enabled = false`, so
//! turning a provider on later (with a SIGHUP reload) cannot surface a latent error; an absent
//! section means the provider is off.

mod access;
mod alerts;
mod build;
mod document;
mod duration_text;
mod error;
mod files;
mod language;
mod raw;
mod secret;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use alerts::{AlertsConfig, EmailAlerts, SmtpTls, WebhookAlerts};
pub use error::ConfigError;
pub use files::{
    CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH, LoadOptions, default_credentials_dir, permission_warnings,
    resolve_path,
};
pub use language::Language;
pub use secret::{Secret, SecretUnreadable};

/// Exit status for a bad configuration (`EX_CONFIG` from `sysexits.h`). The systemd unit sets
/// `RestartPreventExitStatus=78`, so a daemon that cannot start because of its config is not
/// restarted in a loop.
pub const EX_CONFIG: i32 = 78;

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
    /// The merchant's details printed on invoices (`[invoice]`); `None` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceConfig>,
    /// Mail and webhook alerts (`[alerts]`); `None` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<AlertsConfig>,
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

/// `[jgoods]`: the J-goods marketplace (webhooks in, order-info and item APIs out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JgoodsConfig {
    /// Off switch that keeps the section (and its validation). Default true.
    pub enabled: bool,
    /// Order-info API base, no trailing `/`. Default `https://api.j-goods.net/order/v2`.
    pub order_api_base_url: String,
    /// Item (stock push) API base, no trailing `/`. Default `https://api.j-goods.net/v3`.
    pub item_api_base_url: String,
    /// OAuth2 client-credentials token endpoint. Default `https://api.j-goods.net/oauth/token`.
    pub token_url: String,
    /// OAuth2 client id issued by J-goods.
    pub client_id: String,
    /// OAuth2 client secret issued by J-goods.
    pub client_secret: Secret,
    /// How the client id and secret are sent to `token_url`. Default `basic`.
    pub token_auth: TokenAuth,
    /// How J-goods authenticates its webhooks; must match what J-goods actually sends.
    pub webhook_auth: WebhookAuth,
    /// HMAC key or bearer token of the webhooks (per `webhook_auth`).
    pub webhook_secret: Secret,
    /// Source networks allowed to post webhooks; empty means any source. A bare address in
    /// the file is read as a single-host network.
    pub webhook_allow_from: Vec<ipnet::IpNet>,
    /// Safety-net poll for 承認待ち (awaiting approval) orders whose webhook never arrived.
    /// Default 10 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub sweep_interval: Duration,
    /// How often available stock is pushed to J-goods; zero turns the push off. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub stock_push_interval: Duration,
    /// Category API base, no trailing `/`. Default `https://api.j-goods.net/category/v1`.
    pub category_api_base_url: String,
    /// How often the product master is sent to J-goods (what changed only);
    /// zero turns it off. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub catalog_sync_interval: Duration,
}

/// How the client credentials reach J-goods' token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenAuth {
    /// `Authorization: Basic` (RFC 6749 §2.3.1, `client_secret_basic`).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post,
}

/// How an incoming J-goods webhook proves where it comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookAuth {
    /// `X-JGoods-Signature: v1=<hex HMAC-SHA256>` over `"{timestamp}.{body}"`.
    #[default]
    Hmac,
    /// `Authorization: Bearer <webhook secret>`.
    Bearer,
}

/// `[rakuten_pay]`: the Rakuten Pay order API (polled).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RakutenPayConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// Order API base, no trailing `/`. Default `https://api.rms.rakuten.co.jp/es/2.0/order`.
    pub api_base_url: String,
    /// License-management API base (key expiry), no trailing `/`.
    /// Default `https://api.rms.rakuten.co.jp/es/1.0/license-management`.
    pub license_api_url: String,
    /// `serviceSecret` of the ESA authorization header.
    pub service_secret: Secret,
    /// `licenseKey` of the ESA authorization header; expires every 90 days.
    pub license_key: Secret,
    /// How often new and changed orders are searched. Default 2 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub poll_interval: Duration,
    /// How far back each search reaches, so an outage shorter than this loses nothing.
    /// Default 3 days; at most 730 days (Rakuten refuses searches starting earlier).
    #[serde(serialize_with = "duration_text::serialize")]
    pub lookback: Duration,
    /// Confirm orders automatically once their stock is allocated. Default true.
    pub auto_confirm: bool,
    /// Where the merchant's SKU is read from on an order line, first match wins.
    pub sku_preference: Vec<SkuSource>,
    /// Least time between two calls to Rakuten (it asks for about one request a
    /// second per shop). Default 1 s.
    #[serde(serialize_with = "duration_text::serialize")]
    pub request_interval: Duration,
    /// Base of ItemAPI 2.0 (`items.search`) and Inventory API 2.0
    /// (`inventories/bulk-upsert`, `bulk-get`). Default
    /// `https://api.rms.rakuten.co.jp/es/2.0`.
    pub inventory_api_url: String,
    /// Pushes each SKU's availability to Rakuten at most this often (at once
    /// after a quiet spell). Default 30 s; `0s` turns the push off.
    #[serde(serialize_with = "duration_text::serialize")]
    pub stock_push_interval: Duration,
    /// Units held back from Rakuten only: Rakuten is told `available -
    /// stock_buffer` (never below 0), against the race between a Rakuten
    /// buyer and a push. Default 0.
    pub stock_buffer: u32,
    /// While a SKU sold at Rakuten has between 1 and `low_stock_level` units,
    /// Rakuten's recent orders are searched this often (not only every
    /// `poll_interval`), so a Rakuten sale of a last unit is known before
    /// another channel sells it again. Default 10 s; `0s` turns it off.
    #[serde(serialize_with = "duration_text::serialize")]
    pub low_stock_poll_interval: Duration,
    /// See `low_stock_poll_interval`. Default 3.
    pub low_stock_level: u32,
}

/// `[rakuten_pay] deferred_payment`, still read but without effect: the shop's own
/// deferred payment left Rakuten's settlements in 2022-11 (getOrder spec v6.7 removed
/// settlement code 3), and Rakuten's 後払い is Rakuten-handled (`rpaySettlementFlag = 1`),
/// so no Rakuten order is a credit check of the shop's provider any more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeferredPayment {
    #[default]
    None,
    Kuroneko,
    AtobaraiCom,
}

/// A field of a Rakuten order line that can carry the merchant's SKU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkuSource {
    /// `SkuModelList[0].merchantDefinedSkuId`.
    MerchantDefinedSkuId,
    /// `itemNumber`.
    ItemNumber,
    /// `manageNumber`.
    ManageNumber,
}

/// `[kuroneko]`: Kuroneko Atobarai (クロネコ代金後払い) credit checks and shipments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KuronekoConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// API host, no trailing `/`. Default `https://atobarai.kuronekoyamato.co.jp`.
    pub api_base_url: String,
    /// 加盟店コード (store code): exactly 11 digits.
    pub store_code: String,
    /// API password: 1–8 ASCII letters or digits.
    pub password: Secret,
    /// Pause after a credit request before follow-up calls, which may fail meanwhile.
    /// Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub settle_delay: Duration,
    /// How often pending (審査中) credit results are polled. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub poll_interval: Duration,
}

/// `[atobarai_com]`: Atobarai.com (後払い.com) credit checks and shipments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AtobaraiComConfig {
    /// Off switch that keeps the section (and its validation). Default false.
    pub enabled: bool,
    /// API host, no trailing `/`. Default `https://www.atobarai.jp`.
    pub api_base_url: String,
    /// 事業者ID (enterprise id).
    pub enterprise_id: u64,
    /// サイトID (site id), sent on order registration.
    pub site_id: u64,
    /// APIユーザID (API user id).
    pub api_user_id: u64,
    /// How often pending credit results are polled. Default 5 min.
    #[serde(serialize_with = "duration_text::serialize")]
    pub poll_interval: Duration,
    /// What to do with the buyer-facing fee (`I_ItemCharge`). Default keep.
    pub fee_mode: FeeMode,
    /// Fee per band of tax-included billed amount; bands are inclusive, sorted by `min` and do
    /// not overlap. Required (non-empty) when `fee_mode` is not `keep`.
    pub fee_bands: Vec<FeeBand>,
}

/// How the Atobarai.com fee of an order is decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeeMode {
    /// Send the order's own fee.
    #[default]
    Keep,
    /// Replace the order's fee by the fee of the matching band.
    Override,
    /// Add the matching band's fee to the order's fee.
    Add,
}

/// One `[[atobarai_com.fee_bands]]` entry: `min..=max` yen (tax included) costs `fee` yen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FeeBand {
    /// Lowest billed amount in the band, yen, inclusive.
    pub min: u64,
    /// Highest billed amount in the band, yen, inclusive.
    pub max: u64,
    /// Fee charged for the band, yen.
    pub fee: u64,
}

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
    /// A date, default `2024-07-15`.
    pub api_version: String,
    /// Capture authorized payments when the order ships (rather than at authorization).
    /// Default true.
    pub capture_on_ship: bool,
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
        build::build(&text, path, &secret::ProcessEnv, &credentials_dir)
    }

    /// Parses `text` as if read from `path` (which is only used to name the file in errors,
    /// to resolve relative secret file paths, and as [`Config::source`]). Pass
    /// `Path::new("<inline>")` for text that has no file.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        build::build(
            text,
            path,
            &secret::ProcessEnv,
            &default_credentials_dir(path),
        )
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
