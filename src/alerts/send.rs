//! The two ways a message goes out: mail over SMTP (lettre, STARTTLS by
//! default) and a Slack-compatible webhook (`{"text": …}`).

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::message::Message;
use crate::config::{EmailAlerts, Secret, SmtpTls, WebhookAlerts};

/// Why a message did not go out (never with the webhook's URL or a password).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot set up {0}")]
    Setup(String),
    #[error("mail not sent: {0}")]
    Mail(String),
    #[error("webhook not sent: {0}")]
    Webhook(String),
}

/// A configured destination.
pub enum Destination {
    Email(Mailer),
    Webhook(WebhookSender),
}

impl Destination {
    /// The name its notices are owed under.
    pub fn name(&self) -> &'static str {
        match self {
            Destination::Email(_) => "email",
            Destination::Webhook(_) => "webhook",
        }
    }

    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        match self {
            Destination::Email(m) => m.send(message).await,
            Destination::Webhook(w) => w.send(message).await,
        }
    }
}

/// Mail to the configured addresses, one connection per message.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl Mailer {
    pub fn new(cfg: &EmailAlerts, timeout: Duration) -> Result<Mailer, SendError> {
        let setup =
            |what: &str, e: &dyn std::fmt::Display| SendError::Setup(format!("{what}: {e}"));
        let tls_parameters = || -> Result<TlsParameters, SendError> {
            let mut builder = TlsParameters::builder(cfg.smtp_host.clone());
            if let Some(path) = &cfg.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| setup(&format!("alerts.email.ca_file {}", path.display()), &e))?;
                let ca = Certificate::from_pem(&pem)
                    .map_err(|e| setup(&format!("alerts.email.ca_file {}", path.display()), &e))?;
                builder = builder.add_root_certificate(ca);
            }
            builder.build_rustls().map_err(|e| setup("TLS", &e))
        };
        let tls = match cfg.tls {
            SmtpTls::Starttls => Tls::Required(tls_parameters()?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.smtp_host)
            .port(cfg.smtp_port)
            .tls(tls)
            .timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
            let password = password
                .expose()
                .map_err(|e| setup("alerts.email.password", &e))?;
            builder = builder.credentials(Credentials::new(user.clone(), password.to_string()));
        }
        let mailbox = |text: &str| {
            text.parse::<Mailbox>()
                .map_err(|e| setup(&format!("the address {text}"), &e))
        };
        Ok(Mailer {
            transport: builder.build(),
            from: mailbox(&cfg.from)?,
            to: cfg
                .to
                .iter()
                .map(|t| mailbox(t))
                .collect::<Result<_, _>>()?,
        })
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let mut mail = lettre::Message::builder()
            .from(self.from.clone())
            .subject(&message.subject);
        for to in &self.to {
            mail = mail.to(to.clone());
        }
        // Base64: Japanese text survives any relay, 8BITMIME or not.
        let body = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::Base64)
            .body(message.text.clone());
        let mail = mail
            .singlepart(body)
            .map_err(|e| SendError::Mail(e.to_string()))?;
        self.transport
            .send(mail)
            .await
            .map(drop)
            .map_err(|e| SendError::Mail(e.to_string()))
    }
}

/// A Slack-compatible incoming webhook.
pub struct WebhookSender {
    client: reqwest::Client,
    url: Secret,
}

impl WebhookSender {
    pub fn new(cfg: &WebhookAlerts, timeout: Duration) -> Result<WebhookSender, SendError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError::Setup(format!("the webhook client: {e}")))?;
        Ok(WebhookSender {
            client,
            url: cfg.url.clone(),
        })
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let url = self
            .url
            .expose()
            .map_err(|e| SendError::Setup(format!("alerts.webhook.url: {e}")))?;
        let text = slack_escape(&format!("*{}*\n{}", message.subject, message.text));
        let answer = self
            .client
            .post(url.trim())
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            // The URL is the webhook's key: never in an error.
            .map_err(|e| SendError::Webhook(e.without_url().to_string()))?;
        match answer.status() {
            s if s.is_success() => Ok(()),
            s => Err(SendError::Webhook(format!("the receiver answered {s}"))),
        }
    }
}

/// Slack reads `<…>` as links and mentions (`<!channel>`) and `&` as an
/// entity: order ids and provider errors are shown as text, never as markup.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_mention_or_link_in_slack() {
        assert_eq!(
            slack_escape("<!channel> & <http://x|y>"),
            "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
        );
    }
}
