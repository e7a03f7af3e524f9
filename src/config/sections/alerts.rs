//! `[alerts]`: mail and webhook destinations and how often they are told.

use std::net::IpAddr;

use lettre::message::Mailbox;

use super::*;
use crate::config::raw::{RawAlerts, RawEmailAlerts, RawWebhookAlerts};
use crate::config::{AlertsConfig, EmailAlerts, SmtpTls, WebhookAlerts};

const CHECK_INTERVAL: Duration = Duration::from_secs(30);
const DIGEST_INTERVAL: Duration = minutes(5);
const MAX_PER_HOUR: u32 = 6;
const REJECTED_PER_HOUR: u32 = 3;
/// Checking more often than this only costs reads.
const MIN_CHECK: Duration = Duration::from_millis(100);

impl SectionReader<'_> {
    pub fn alerts(&self, raw: RawAlerts, path: &Path) -> Result<AlertsConfig> {
        let enabled = raw.enabled.unwrap_or(false);
        let email = raw.email.map(|e| self.email(e, enabled)).transpose()?;
        let webhook = raw.webhook.map(|w| self.webhook(w, enabled)).transpose()?;
        if enabled && email.is_none() && webhook.is_none() {
            return Err(self.err(
                "alerts",
                "needs [alerts.email] or [alerts.webhook] (or both) / 通知先がありません",
            ));
        }
        let console_url = match raw.console_url {
            Some(url) => Some(self.base_url("alerts.console_url", Some(url), "")?),
            None => None,
        };
        let name = match raw.name {
            Some(n) if n.trim().is_empty() || n.chars().any(char::is_control) => {
                return Err(self.err("alerts.name", "must be a short line of text"));
            }
            Some(n) => Some(n),
            None => path
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| *s != "config")
                .map(str::to_owned),
        };
        Ok(AlertsConfig {
            enabled,
            name,
            check_interval: self.duration(
                "alerts.check_interval",
                raw.check_interval,
                CHECK_INTERVAL,
                MIN_CHECK,
            )?,
            digest_interval: self.duration(
                "alerts.digest_interval",
                raw.digest_interval,
                DIGEST_INTERVAL,
                Duration::ZERO,
            )?,
            max_per_hour: self.at_least_one(
                "alerts.max_per_hour",
                raw.max_per_hour,
                MAX_PER_HOUR,
            )?,
            rejected_webhooks_per_hour: self.at_least_one(
                "alerts.rejected_webhooks_per_hour",
                raw.rejected_webhooks_per_hour,
                REJECTED_PER_HOUR,
            )?,
            console_url,
            email,
            webhook,
        })
    }

    fn email(&self, raw: RawEmailAlerts, enabled: bool) -> Result<EmailAlerts> {
        let smtp_host = self.required_text("alerts.email.smtp_host", raw.smtp_host)?;
        let tls = raw.tls.unwrap_or_default();
        if tls == SmtpTls::None && !is_loopback_host(&smtp_host) {
            return Err(self.err(
                "alerts.email.tls",
                "\"none\" is only for a relay on this machine (127.0.0.1, localhost): \
                 use \"starttls\" or \"tls\" / 暗号化なしは同じマシンの中継サーバーだけに使えます",
            ));
        }
        let password = match (&raw.username, raw.password) {
            (Some(_), spec) => Some(self.secret("alerts.email.password", spec, enabled)?),
            (None, Some(_)) => {
                return Err(self.err(
                    "alerts.email.password",
                    "is given without alerts.email.username",
                ));
            }
            (None, None) => None,
        };
        let from = self.required_text("alerts.email.from", raw.from)?;
        self.mailbox("alerts.email.from", &from)?;
        let to = self.required("alerts.email.to", raw.to)?;
        if to.is_empty() {
            return Err(self.err("alerts.email.to", "needs at least one address"));
        }
        for address in &to {
            self.mailbox("alerts.email.to", address)?;
        }
        Ok(EmailAlerts {
            smtp_port: raw.smtp_port.unwrap_or(tls.default_port()),
            smtp_host,
            tls,
            username: raw.username,
            password,
            from,
            to,
            ca_file: raw.ca_file.map(|p| self.sources.base_dir.join(p)),
        })
    }

    fn mailbox(&self, key: &str, text: &str) -> Result<()> {
        text.parse::<Mailbox>().map(drop).map_err(|e| {
            self.err(
                key,
                format!("`{text}` is not a mail address ({e}) / メールアドレスではありません"),
            )
        })
    }

    fn webhook(&self, raw: RawWebhookAlerts, enabled: bool) -> Result<WebhookAlerts> {
        let url = self.secret("alerts.webhook.url", raw.url, enabled)?;
        if let Ok(text) = url.expose() {
            self.webhook_url(text)?;
        }
        Ok(WebhookAlerts { url })
    }

    /// https, or http to this machine only: the URL carries the webhook's key.
    /// The message never quotes the URL (it is a secret).
    fn webhook_url(&self, text: &str) -> Result<()> {
        let key = "alerts.webhook.url";
        let url = Url::parse(text.trim())
            .map_err(|_| self.err(key, "is not a URL / URLではありません"))?;
        let host = url.host_str().unwrap_or_default();
        match url.scheme() {
            "https" if !host.is_empty() => Ok(()),
            "http" if is_loopback_host(host) => Ok(()),
            _ => Err(self.err(
                key,
                "must be an https:// URL (http:// only to this machine) / https:// のURLにしてください",
            )),
        }
    }
}

/// `localhost`, `127.0.0.1`, `[::1]`.
fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
