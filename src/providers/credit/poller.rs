//! The credit poller of one deferred-payment provider: neither Kuroneko
//! Atobarai nor Atobarai.com pushes anything, so orders under review are
//! polled until they settle, and shipped ones until they are paid.

use crate::domain::Provider;
use crate::heartbeat::{self, Heartbeat};
use crate::worker::WorkerContext;
use crate::worker::{Wake, Worker};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::apply::{now, write};
use crate::call::CallError;
use crate::domain::Channel;
use crate::domain::credit::Transaction;
use crate::domain::time;
use crate::engine::credit::CreditPolicy;
use crate::engine::credit::{self as rules, Source};
use crate::providers::credit::CreditProvider;
use crate::providers::polling::{self, last_success_key};
use crate::store::{self, credit as credit_store};
use crate::store::{Store, kv};

/// Polls one provider on its own interval.
pub struct CreditPoller {
    /// The store, the dispatcher's wake, the metrics and the problems.
    pub ctx: WorkerContext,
    pub provider: Arc<dyn CreditProvider>,
    /// `poll_interval` of the provider's section.
    pub interval: Duration,
    pub policy: CreditPolicy,
    /// Makes the poller poll at once (tests, `Daemon::poll_now`).
    pub poke: Arc<Notify>,
    /// Checked in every round, for the watchdog.
    pub heartbeat: Heartbeat,
}

impl CreditPoller {
    pub async fn run(self, shutdown: CancellationToken) {
        let name: Provider = self.provider.provider().into();
        if let Err(e) = self.provider.warm_up().await {
            // A refused configuration shows at once. (Success is not
            // observed: a provider without start-up work makes no call.)
            self.ctx.problems.observe(name, Err(&e)).await;
            tracing::warn!(provider = name.as_str(), error = %e, "start-up call failed; retried when needed");
        }
        loop {
            self.heartbeat.beat(heartbeat::POLL_ALLOWANCE);
            let result = self.poll_once().await;
            match &result {
                // A round with nothing to ask made no call: it says nothing
                // about the configuration, so a problem stays shown.
                Ok(0) => {}
                Ok(_) => self.ctx.problems.observe(name, Ok(())).await,
                Err(PollError::Provider(e)) => self.ctx.problems.observe(name, Err(e)).await,
                Err(PollError::Store(_)) => {}
            }
            match result {
                Ok(n) => tracing::debug!(provider = name.as_str(), orders = n, "credit poll done"),
                Err(e) => {
                    tracing::warn!(provider = name.as_str(), error = %e, "credit poll failed; trying again at the next interval")
                }
            }
            if !polling::rest(&self.heartbeat, &self.poke, &shutdown, self.interval).await {
                return;
            }
        }
    }

    /// One round; returns how many orders were looked at.
    pub async fn poll_once(&self) -> Result<usize, PollError> {
        let n = poll(&self.ctx.store, self.provider.as_ref(), self.policy).await?;
        let key = last_success_key(self.provider.provider().into());
        let now = time::rfc3339(time::now());
        self.ctx
            .store
            .write(move |tx| kv::set(tx, &key, &now, &now))
            .await?;
        self.ctx.dispatcher_wake.notify_one();
        Ok(n)
    }
}

/// Polls the credit of every order under review with `provider`, and the
/// transaction of every shipped one, and writes what changed. Returns how
/// many orders were looked at.
pub async fn poll(
    store: &Store,
    provider: &dyn CreditProvider,
    policy: CreditPolicy,
) -> Result<usize, PollError> {
    let p = provider.provider();
    let now_ms = time::unix_ms(time::now());
    let (pending, shipped) = store
        .read(move |c| {
            Ok((
                credit_store::under_review(c, p, now_ms)?,
                credit_store::awaiting_payment(c, p)?,
            ))
        })
        .await?;
    let refs: Vec<String> = pending.iter().map(|f| f.reference.clone()).collect();
    let verdicts = if refs.is_empty() {
        vec![]
    } else {
        provider.credit_results(&refs).await?
    };
    for (f, (_, v)) in pending.iter().zip(verdicts) {
        write(store, None, f.channel, f.order_id.clone(), move |o| {
            rules::verdict(o, v, Source::Poll, policy, &now())
        })
        .await?;
    }
    if !pending.is_empty() {
        let polled: Vec<(Channel, String)> = pending
            .iter()
            .map(|f| (f.channel, f.order_id.clone()))
            .collect();
        store
            .write(move |tx| {
                polled
                    .iter()
                    .try_for_each(|(ch, id)| credit_store::mark_polled(tx, *ch, id, now_ms))
            })
            .await?;
    }
    for f in &shipped {
        let t: Transaction = provider.transaction_status(&f.reference).await?;
        write(store, None, f.channel, f.order_id.clone(), move |o| {
            rules::progress(o, t)
        })
        .await?;
    }
    Ok(pending.len() + shipped.len())
}

/// Why a poll round stopped.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Provider(#[from] CallError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl Worker for CreditPoller {
    fn name(&self) -> &'static str {
        self.heartbeat.name()
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        Some(self.heartbeat.clone())
    }

    fn wake(&self) -> Wake {
        Wake::Poll(self.poke.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(CreditPoller::run(*self, stop))
    }
}
