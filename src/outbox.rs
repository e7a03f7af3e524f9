//! The outbox dispatcher: makes the calls decisions queued, with exponential
//! backoff and jitter, honouring `Retry-After`, and gives a call up (dead,
//! visible, retryable by hand) once its retry budget is spent.
//!
//! Calls for one order run one at a time, in the order they were decided;
//! calls for different orders run concurrently. Every call is idempotent at
//! the provider (a repeated identical call is answered as the first was, or
//! carries an idempotency key, see [`crate::call::idempotency_key`]), so a call that was
//! made but not recorded before a crash is simply made again.
//!
//! The dispatcher knows no provider: each row's call is made by the
//! [`CallRunner`] it holds (the channels' router), which writes the outcome
//! together with the row, or answers how the row waits ([`Attempt`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::call::{Attempt, CallContext, CallRunner, RetryPolicy};
use crate::domain::time;
use crate::heartbeat::{self, Heartbeat};
use crate::metrics::Metrics;
use crate::problems::ProviderProblems;
use crate::store::outbox::OutboxRow;
use crate::store::{self, Store, outbox};

/// What the dispatcher needs to run.
#[derive(Clone)]
pub struct Dispatcher {
    pub store: Store,
    /// Who makes each row's call (the channels' router): the dispatcher
    /// knows no provider.
    pub runner: Arc<dyn CallRunner>,
    pub retry: RetryPolicy,
    /// Calls in flight at once (across orders).
    pub concurrency: usize,
    /// Poked after a decision queues a call, so it goes out without waiting.
    pub wake: Arc<Notify>,
    /// Checked in on every turn of the loop; feeds the systemd watchdog.
    pub heartbeat: Heartbeat,
    /// Provider call latency and errors.
    pub metrics: Arc<Metrics>,
    /// Channel-wide problems (refused keys, unregistered addresses).
    pub problems: ProviderProblems,
    /// This installation's random id ([`crate::store::kv::installation_id`]),
    /// the first part of every idempotency key.
    pub installation_id: String,
}

/// How long a call blocked by a configuration problem waits before it is
/// tried again (a reload or a new key fixes it; no tight loop meanwhile),
/// unless `[retry] max_delay` is shorter.
const BLOCKED_WAIT: Duration = Duration::from_secs(300);

impl Dispatcher {
    /// Drains the outbox until `shutdown`; in-flight calls finish first.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut in_flight: JoinSet<(i64, Option<String>)> = JoinSet::new();
        let mut busy_ids: HashSet<i64> = HashSet::new();
        let mut busy_orders: HashSet<String> = HashSet::new();
        loop {
            // Every wait below is at most a second; only a hung store read
            // can keep the loop from coming back within the allowance.
            self.heartbeat.beat(heartbeat::TURN_ALLOWANCE);
            if !shutdown.is_cancelled() && in_flight.len() < self.concurrency {
                // Rows in flight are still pending and, being older, usually
                // come first: this many rows hold a candidate for every free
                // slot. Reading more decoded calls only to skip them (a tenth
                // of the daemon's CPU under a webhook burst); a round that
                // comes up short is made up at the next completion.
                let limit = u32::try_from(self.concurrency).unwrap_or(u32::MAX);
                match self
                    .store
                    .read(move |c| outbox::due(c, time::unix_ms(time::now()), limit))
                    .await
                {
                    Ok(rows) => {
                        for row in rows {
                            if in_flight.len() >= self.concurrency {
                                break;
                            }
                            let order_key = row.order_id.as_ref().map(|o| order_key(&row, o));
                            if busy_ids.contains(&row.id)
                                || order_key.as_ref().is_some_and(|k| busy_orders.contains(k))
                            {
                                continue;
                            }
                            busy_ids.insert(row.id);
                            if let Some(k) = &order_key {
                                busy_orders.insert(k.clone());
                            }
                            let me = self.clone();
                            in_flight.spawn(async move {
                                let id = row.id;
                                me.attempt_logged(row).await;
                                (id, order_key)
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
                }
            }
            if shutdown.is_cancelled() && in_flight.is_empty() {
                return;
            }
            // With calls in flight, their completion wakes the loop; only an
            // idle dispatcher needs to look up when the next retry is due.
            let idle_wait = if in_flight.is_empty() {
                self.idle_wait().await
            } else {
                Duration::from_secs(1)
            };
            tokio::select! {
                Some(done) = in_flight.join_next() => {
                    if let Ok((id, key)) = done {
                        busy_ids.remove(&id);
                        if let Some(k) = key { busy_orders.remove(&k); }
                    }
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle_wait) => {}
                _ = shutdown.cancelled(), if !shutdown.is_cancelled() => {}
            }
        }
    }

    /// How long to sleep when there is nothing to do: until the next retry is
    /// due, but at most a second (other processes may queue calls too).
    async fn idle_wait(&self) -> Duration {
        let next = self
            .store
            .read(|c| outbox::next_due_ms(c))
            .await
            .ok()
            .flatten();
        let now = time::unix_ms(time::now());
        match next {
            Some(ms) if ms > now => {
                Duration::from_millis((ms - now) as u64).min(Duration::from_secs(1))
            }
            Some(_) => Duration::from_millis(20),
            None => Duration::from_secs(1),
        }
    }

    async fn attempt_logged(&self, row: OutboxRow) {
        let id = row.id;
        let kind = row.kind.clone();
        let attempts = row.attempts;
        let budget_from_ms = row.budget_from_ms;
        let provider = row.call.provider();
        let started = std::time::Instant::now();
        let ctx = CallContext {
            store: &self.store,
            metrics: &self.metrics,
            row: &row,
            retry: self.retry,
            installation_id: &self.installation_id,
        };
        let result = match self.runner.run(&ctx).await {
            Ok(Attempt::Finished) => {
                // The provider answered (accepted or refused the call itself):
                // its configuration works.
                self.problems.clear(provider).await;
                Ok(())
            }
            Ok(Attempt::Wait { pause, note }) => {
                let next_ms = time::unix_ms(time::now()) + pause.as_millis() as i64;
                self.store
                    .write(move |tx| {
                        outbox::defer(tx, id, next_ms, note, &time::rfc3339(time::now()))
                    })
                    .await
            }
            Ok(Attempt::Blocked { fix }) => {
                self.problems.flag(provider, &fix).await;
                let wait = BLOCKED_WAIT.min(self.retry.max_delay);
                let next_ms = time::unix_ms(time::now()) + wait.as_millis() as i64;
                self.store
                    .write(move |tx| {
                        outbox::defer(tx, id, next_ms, &fix, &time::rfc3339(time::now()))
                    })
                    .await
            }
            Ok(Attempt::Retry { error, retry_after }) => {
                self.schedule_retry(id, attempts, budget_from_ms, &error, retry_after)
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => tracing::debug!(
                outbox_id = id,
                kind,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "call finished"
            ),
            // The row stays pending; the next round tries again.
            Err(e) => {
                tracing::error!(outbox_id = id, kind, error = %e, "cannot record a call's result")
            }
        }
    }

    async fn schedule_retry(
        &self,
        id: i64,
        attempts: u32,
        budget_from_ms: i64,
        error: &str,
        retry_after: Option<Duration>,
    ) -> store::Result<()> {
        let delay = self
            .retry
            .delay(attempts)
            .max(retry_after.unwrap_or_default());
        let next_ms = time::unix_ms(time::now()) + delay.as_millis() as i64;
        let error = error.to_string();
        let dead = next_ms - budget_from_ms > self.retry.give_up_after.as_millis() as i64;
        self.store
            .write(move |tx| {
                let now = time::rfc3339(time::now());
                if dead {
                    outbox::kill(tx, id, &error, &now)
                } else {
                    outbox::reschedule(tx, id, next_ms, &error, &now)
                }
            })
            .await
    }
}

fn order_key(row: &OutboxRow, order_id: &str) -> String {
    format!("{}:{order_id}", row.channel.as_deref().unwrap_or(""))
}
