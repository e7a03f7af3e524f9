//! The file's shape, as serde reads it.
//!
//! Every key is optional here so that defaults and "required when the section is present"
//! are decided in one place (`build`) with messages that say so; serde's job is
//! only the types and unknown keys (`deny_unknown_fields` everywhere).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::alerts::SmtpTls;
use super::secret::SecretSpec;
use super::{DeferredPayment, FeeMode, Language, LogFormat, SkuSource, TokenAuth, WebhookAuth};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub daemon: Option<RawDaemon>,
    pub inventory: Option<RawInventory>,
    pub retry: Option<RawRetry>,
    pub jgoods: Option<RawJgoods>,
    pub rakuten_pay: Option<RawRakutenPay>,
    pub kuroneko: Option<RawKuroneko>,
    pub atobarai_com: Option<RawAtobaraiCom>,
    pub komoju: Option<RawKomoju>,
    pub invoice: Option<RawInvoice>,
    pub alerts: Option<RawAlerts>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDaemon {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub admin_listen: Option<SocketAddr>,
    pub admin_token: Option<SecretSpec>,
    pub log_format: Option<LogFormat>,
    pub language: Option<Language>,
    #[serde(default, with = "humantime_serde")]
    pub http_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub request_timeout: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub header_read_timeout: Option<Duration>,
    pub allow_no_admin_token: Option<bool>,
    pub admin_hosts: Option<Vec<String>>,
    pub max_connections: Option<usize>,
    pub max_connections_per_source: Option<usize>,
    pub admin_max_connections: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInventory {
    pub safety_stock: Option<u32>,
    pub release_on_credit_ng: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    #[serde(default, with = "humantime_serde")]
    pub initial_delay: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub max_delay: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub give_up_after: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJgoods {
    pub enabled: Option<bool>,
    pub order_api_base_url: Option<String>,
    pub item_api_base_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretSpec>,
    pub token_auth: Option<TokenAuth>,
    pub webhook_auth: Option<WebhookAuth>,
    pub webhook_secret: Option<SecretSpec>,
    /// Strings, parsed in `build` so a bare address can mean a single host.
    pub webhook_allow_from: Option<Vec<String>>,
    #[serde(default, with = "humantime_serde")]
    pub sweep_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub stock_push_interval: Option<Duration>,
    pub category_api_base_url: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub catalog_sync_interval: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRakutenPay {
    pub enabled: Option<bool>,
    pub api_base_url: Option<String>,
    pub license_api_url: Option<String>,
    pub service_secret: Option<SecretSpec>,
    pub license_key: Option<SecretSpec>,
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub lookback: Option<Duration>,
    pub auto_confirm: Option<bool>,
    pub deferred_payment: Option<DeferredPayment>,
    pub sku_preference: Option<Vec<SkuSource>>,
    #[serde(default, with = "humantime_serde")]
    pub request_interval: Option<Duration>,
    pub inventory_api_url: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub stock_push_interval: Option<Duration>,
    pub stock_buffer: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    pub low_stock_poll_interval: Option<Duration>,
    pub low_stock_level: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKuroneko {
    pub enabled: Option<bool>,
    pub api_base_url: Option<String>,
    pub store_code: Option<String>,
    pub password: Option<SecretSpec>,
    #[serde(default, with = "humantime_serde")]
    pub settle_delay: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAtobaraiCom {
    pub enabled: Option<bool>,
    pub api_base_url: Option<String>,
    pub enterprise_id: Option<u64>,
    pub site_id: Option<u64>,
    pub api_user_id: Option<u64>,
    #[serde(default, with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
    pub fee_mode: Option<FeeMode>,
    pub fee_bands: Option<Vec<RawFeeBand>>,
}

/// All three keys are required in a band; serde reports a missing one with the band's line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeeBand {
    pub min: u64,
    pub max: u64,
    pub fee: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKomoju {
    pub enabled: Option<bool>,
    pub api_base_url: Option<String>,
    pub secret_key: Option<SecretSpec>,
    pub webhook_secret: Option<SecretSpec>,
    pub api_version: Option<String>,
    pub capture_on_ship: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInvoice {
    pub issuer_name: Option<String>,
    pub registration_number: Option<String>,
    pub addressee: Option<String>,
    pub bank_account: Option<String>,
    pub number_prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    pub enabled: Option<bool>,
    pub name: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub check_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub digest_interval: Option<Duration>,
    pub max_per_hour: Option<u32>,
    pub rejected_webhooks_per_hour: Option<u32>,
    pub console_url: Option<String>,
    pub email: Option<RawEmailAlerts>,
    pub webhook: Option<RawWebhookAlerts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEmailAlerts {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub tls: Option<SmtpTls>,
    pub username: Option<String>,
    pub password: Option<SecretSpec>,
    pub from: Option<String>,
    pub to: Option<Vec<String>>,
    pub ca_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhookAlerts {
    pub url: Option<SecretSpec>,
}
