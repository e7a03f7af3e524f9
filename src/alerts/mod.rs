//! Alerts (`[alerts]`): a person is told by mail and/or a chat webhook when
//! something needs one, without watching the console.
//!
//! Every `check_interval` the worker looks at the store (one snapshot), finds
//! the causes (an order that needs a person, a dead call, a provider refusing
//! the configuration, refused webhooks above a rate, a poller behind, the
//! licence key near its end) and compares them with the causes already open
//! (`alerts` table). A new cause opens and a gone one clears; each change is
//! owed to every destination in the same transaction (decide, then
//! dispatch). Then each destination whose pace allows is sent what it is
//! owed as one message (a digest when there are several), and only then are
//! those notices marked sent. So a cause is told once, not once per look; a
//! restart resumes with what is owed; a crash in the instant between a send
//! and its record repeats that one message.
//!
//! A destination that cannot be reached is retried with a growing wait and
//! shows as a problem (`attention.alerts.<destination>`) on `status`, the
//! status page and the console — and, through the other destination, as an
//! alert.

pub mod causes;
pub mod message;
pub mod pace;
pub mod send;

use crate::heartbeat::Heartbeat;
use crate::worker::Worker;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::AlertsConfig;

use crate::config_file::Config;
use crate::domain::time;
use crate::store::{Store, alerts as stored, kv};
use causes::{Observed, causes, diff};
use message::{MAX_LISTED, Words};
use pace::Pace;
use send::{Destination, Mailer, SendError, WebhookSender};

/// How long sent notices and messages are kept.
const KEPT_DAYS: i64 = 31;

/// The alert worker of one config.
pub struct AlertWorker {
    store: Store,
    config: Config,
    destinations: Vec<Destination>,
    words: Words,
    pace: Pace,
    every: Duration,
    rejected_per_hour: u32,
}

/// A destination's failed sends in a row and when to try again.
#[derive(Default)]
struct Failing {
    count: u32,
    until_ms: i64,
}

/// The destinations `[alerts]` names, built (an unreadable CA file or secret
/// is an error here, before any worker runs).
pub fn destinations(a: &AlertsConfig, timeout: Duration) -> Result<Vec<Destination>, SendError> {
    let mut all = Vec::new();
    if let Some(e) = &a.email {
        all.push(Destination::Email(Mailer::new(e, timeout)?));
    }
    if let Some(w) = &a.webhook {
        all.push(Destination::Webhook(WebhookSender::new(w, timeout)?));
    }
    Ok(all)
}

/// The words of `config`'s alerts.
pub fn words(config: &Config) -> Words {
    let a = config.alerts.as_ref();
    Words {
        language: config.daemon.language,
        name: a.and_then(|a| a.name.clone()),
        console_url: a.and_then(|a| a.console_url.clone()),
    }
}

/// The problem key of a destination that cannot be reached.
pub fn problem_key(destination: &str) -> String {
    format!("{}alerts.{destination}", crate::problems::PREFIX)
}

impl AlertWorker {
    /// The worker, when `config` enables alerts.
    pub fn build(config: &Config, store: &Store) -> Result<Option<AlertWorker>, SendError> {
        let Some(a) = config.enabled_alerts() else {
            return Ok(None);
        };
        Ok(Some(AlertWorker {
            store: store.clone(),
            destinations: destinations(a, config.daemon.http_timeout)?,
            words: words(config),
            pace: Pace {
                digest_interval: a.digest_interval,
                max_per_hour: a.max_per_hour,
            },
            every: a.check_interval,
            rejected_per_hour: a.rejected_webhooks_per_hour,
            config: config.clone(),
        }))
    }

    /// Looks and sends every `check_interval` until `stop`. The first look
    /// waits one interval, so pollers have polled once since the start and
    /// an old "last success" does not alert.
    pub async fn run(self, stop: CancellationToken) {
        let mut failing: HashMap<&'static str, Failing> = HashMap::new();
        let mut pruned_ms = 0;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.every) => {}
            }
            if let Err(e) = self.look().await {
                tracing::warn!(error = %e, "cannot look for alerts; trying again at the next check");
                continue;
            }
            for d in &self.destinations {
                let f = failing.entry(d.name()).or_default();
                self.tell(d, f).await;
            }
            let now_ms = time::unix_ms(time::now());
            if now_ms - pruned_ms > 3_600_000 {
                pruned_ms = now_ms;
                self.prune().await;
            }
        }
    }

    /// Opens new causes and clears gone ones, owing each change to every
    /// destination. Returns how many changed.
    pub async fn look(&self) -> crate::store::Result<usize> {
        let seen = self.store.read(|c| Observed::read(c)).await?;
        let now_causes = causes(&seen, &self.config, self.rejected_per_hour);
        let names: Vec<&'static str> = self.destinations.iter().map(Destination::name).collect();
        let now = time::rfc3339(time::now());
        self.store
            .write(move |tx| {
                let changes = diff(&stored::open(tx)?, &now_causes);
                stored::apply(tx, &changes, &names, &now)?;
                Ok(changes.len())
            })
            .await
    }

    /// Sends `d` what it is owed, if its pace allows.
    async fn tell(&self, d: &Destination, failing: &mut Failing) {
        let name = d.name();
        let now_ms = time::unix_ms(time::now());
        if now_ms < failing.until_ms {
            return;
        }
        let since = Pace::hour_before(now_ms);
        let read = self
            .store
            .read(move |c| {
                let sends = stored::sends_since(c, name, since)?;
                let owed = stored::owed(c, name, MAX_LISTED)?;
                Ok((sends, owed))
            })
            .await;
        let (sends, (notices, total, through)) = match read {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, destination = name, "cannot read the alerts owed");
                return;
            }
        };
        if notices.is_empty() || now_ms < self.pace.next_ms(&sends) {
            return;
        }
        let now = time::rfc3339(time::now());
        let message = self.words.compose(&notices, total, &now);
        match d.send(&message).await {
            Ok(()) => {
                tracing::info!(destination = name, notices = total, subject = %message.subject, "alert sent");
                *failing = Failing::default();
                let subject = message.subject;
                let recorded = self
                    .store
                    .write(move |tx| {
                        stored::sent(tx, name, through, &subject, now_ms, &now)?;
                        // Also after a restart, which forgot the failures.
                        kv::delete(tx, &problem_key(name))
                    })
                    .await;
                if let Err(e) = recorded {
                    tracing::error!(error = %e, destination = name, "an alert went out but cannot be recorded; it may be sent again");
                }
            }
            Err(e) => {
                failing.count += 1;
                let wait = pace::retry_after(failing.count, self.every);
                failing.until_ms = now_ms + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                tracing::warn!(error = %e, destination = name, retry_in = ?wait, "cannot send an alert");
                let reason = format!(
                    "通知を送れません / cannot send alerts ({name}): {e}. \
                     alerts.{name} の設定を確認してください / check [alerts.{name}]"
                );
                let recorded = self
                    .store
                    .write(move |tx| kv::set(tx, &problem_key(name), &reason, &now))
                    .await;
                if let Err(e) = recorded {
                    tracing::error!(error = %e, "cannot record that alerts cannot be sent");
                }
            }
        }
    }

    async fn prune(&self) {
        let before = time::now() - chrono::Duration::days(KEPT_DAYS);
        let (ms, text) = (time::unix_ms(before), time::rfc3339(before));
        if let Err(e) = self
            .store
            .write(move |tx| stored::prune(tx, ms, &text))
            .await
        {
            tracing::warn!(error = %e, "cannot prune old alerts");
        }
    }
}

/// Sends one test message to every destination `config` names, enabled or
/// not yet (`ordersync alerts test`): what fails says why.
pub async fn send_test(config: &Config) -> Vec<(&'static str, Result<(), SendError>)> {
    let Some(a) = &config.alerts else {
        return Vec::new();
    };
    let destinations = match destinations(a, config.daemon.http_timeout) {
        Ok(d) => d,
        Err(e) => return vec![("config", Err(e))],
    };
    let words = words(config);
    let prefix = words
        .name
        .as_deref()
        .map_or("[ordersync]".to_string(), |n| format!("[ordersync {n}]"));
    let message = message::Message {
        subject: format!("{prefix} テスト / Test"),
        text: format!(
            "ordersync の通知のテストです。届いていれば設定は正しく動いています。\n\
             This is a test of ordersync's alerts: if you read it, they work.\n{} JST",
            time::shown(&time::rfc3339(time::now()))
        ),
    };
    let mut results = Vec::new();
    for d in &destinations {
        results.push((d.name(), d.send(&message).await));
    }
    results
}

impl Worker for AlertWorker {
    fn name(&self) -> &'static str {
        "alerts"
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        None
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(AlertWorker::run(*self, stop))
    }
}
