//! The shared sections' shape, as serde reads it (each provider's raw section
//! is in its channel's `config.rs`, the file's whole shape in
//! [`crate::config_file`]).
//!
//! Every key is optional here so that defaults and "required when the section is present"
//! are decided in one place (the section's reader) with messages that say so; serde's job is
//! only the types and unknown keys (`deny_unknown_fields` everywhere).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::alerts::SmtpTls;
use super::secret::SecretSpec;
use super::{Language, LogFormat};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
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
    pub admin_max_connections_per_source: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    pub write_timeout: Option<Duration>,
    pub max_requests_per_connection: Option<usize>,
    pub refused_webhooks_per_minute: Option<u32>,
    pub trusted_proxies: Option<Vec<String>>,
    pub proxy_max_connections: Option<usize>,
    pub max_provider_answer_mib: Option<usize>,
    pub max_provider_page_mib: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInventory {
    pub safety_stock: Option<u32>,
    pub release_on_credit_ng: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    #[serde(default, with = "humantime_serde")]
    pub initial_delay: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub max_delay: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub give_up_after: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvoice {
    pub issuer_name: Option<String>,
    pub registration_number: Option<String>,
    pub addressee: Option<String>,
    pub bank_account: Option<String>,
    pub number_prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
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
pub struct RawEmailAlerts {
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
pub struct RawWebhookAlerts {
    pub url: Option<SecretSpec>,
}
