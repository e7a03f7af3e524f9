//! The credit poller of one deferred-payment provider: neither Kuroneko
//! Atobarai nor Atobarai.com pushes anything, so orders under review are
//! polled until they settle, and shipped ones until they are paid.

use crate::heartbeat::{self, Heartbeat};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::channels::credit::CreditProvider;
use crate::channels::credit::apply::{self as flow, PollError};
use crate::channels::credit::rules::CreditPolicy;
use crate::channels::polling::last_success_key;
use crate::domain::time;
use crate::problems::ProviderProblems;
use crate::store::{Store, kv};

/// Polls one provider on its own interval.
pub struct CreditPoller {
    pub store: Store,
    pub provider: Arc<dyn CreditProvider>,
    /// `poll_interval` of the provider's section.
    pub interval: Duration,
    pub policy: CreditPolicy,
    pub safety_stock: u32,
    /// Makes the poller poll at once (tests, `Daemon::poll_now`).
    pub poke: Arc<Notify>,
    /// A verdict may queue calls (a cancel of an order cancelled meanwhile).
    pub dispatcher_wake: Arc<Notify>,
    /// Checked in every round, for the watchdog.
    pub heartbeat: Heartbeat,
    /// Where a refused configuration (credentials, source address) is shown.
    pub problems: ProviderProblems,
}

impl CreditPoller {
    pub async fn run(self, shutdown: CancellationToken) {
        let name = self.provider.provider().as_str();
        if let Err(e) = self.provider.warm_up().await {
            tracing::warn!(provider = name, error = %e, "start-up call failed; retried when needed");
        }
        loop {
            self.heartbeat.beat(heartbeat::POLL_ALLOWANCE);
            let result = self.poll_once().await;
            match &result {
                Ok(_) => self.problems.observe(name, Ok(())).await,
                Err(PollError::Provider(e)) => self.problems.observe(name, Err(e)).await,
                Err(PollError::Store(_)) => {}
            }
            match result {
                Ok(n) => tracing::debug!(provider = name, orders = n, "credit poll done"),
                Err(e) => {
                    tracing::warn!(provider = name, error = %e, "credit poll failed; trying again at the next interval")
                }
            }
            self.heartbeat
                .beat(self.interval + heartbeat::TURN_ALLOWANCE);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.poke.notified() => {}
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// One round; returns how many orders were looked at.
    pub async fn poll_once(&self) -> Result<usize, PollError> {
        let n = flow::poll(
            &self.store,
            self.provider.as_ref(),
            self.policy,
            self.safety_stock,
        )
        .await?;
        let key = last_success_key(self.provider.provider().as_str());
        let now = time::rfc3339(time::now());
        self.store
            .write(move |tx| kv::set(tx, &key, &now, &now))
            .await?;
        self.dispatcher_wake.notify_one();
        Ok(n)
    }
}
