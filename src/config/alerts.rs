//! `[alerts]`: who is told when something needs a person, and how often.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Secret;

/// `[alerts]`, with `[alerts.email]` and `[alerts.webhook]` (at least one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertsConfig {
    pub enabled: bool,
    /// Shown in every subject, so a person with several shops knows which
    /// one speaks. Default: the instance name (`/etc/ordersync/<name>.toml`),
    /// or none for `config.toml`.
    pub name: Option<String>,
    /// How often the store is looked at for new and cleared causes. Causes
    /// found in one look go out in one message. Default 30 s.
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// After a message, the next one to the same destination waits this
    /// long, so what arrives meanwhile goes in one digest. Default 5 min.
    #[serde(with = "humantime_serde")]
    pub digest_interval: Duration,
    /// At most this many messages per destination in any hour. Default 6.
    pub max_per_hour: u32,
    /// Refused webhooks of one provider and reason in an hour that make an
    /// alert. Default 3.
    pub rejected_webhooks_per_hour: u32,
    /// The console's address as the operator opens it
    /// (`http://192.0.2.10:8081`): messages link to the order's page.
    pub console_url: Option<String>,
    pub email: Option<EmailAlerts>,
    pub webhook: Option<WebhookAlerts>,
}

/// `[alerts.email]`: mail through the merchant's SMTP server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmailAlerts {
    pub smtp_host: String,
    /// Default 587 (STARTTLS), 465 with `tls = "tls"`, 25 with `tls = "none"`.
    pub smtp_port: u16,
    pub tls: SmtpTls,
    /// SMTP AUTH user; with it, `password` is required.
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `From:`, e.g. `ordersync <ordersync@example.jp>`.
    pub from: String,
    /// One address or more.
    pub to: Vec<String>,
    /// A PEM file of the certificate authority that signed the server's
    /// certificate, when it is not one the system trusts (a relay inside the
    /// shop's network).
    pub ca_file: Option<PathBuf>,
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, refused when the server
    /// does not offer it (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only to a relay on this machine (`127.0.0.1`, `localhost`).
    None,
}

impl SmtpTls {
    /// The port usually served with this protection.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// `[alerts.webhook]`: a Slack-compatible incoming webhook (`{"text": …}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookAlerts {
    /// The webhook's URL: it carries its own key, so it is a secret.
    pub url: Secret,
}
