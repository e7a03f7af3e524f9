//! The outbox dispatcher: makes the calls decisions queued, with exponential
//! backoff and jitter, honouring `Retry-After`, and gives a call up (dead,
//! visible, retryable by hand) once its retry budget is spent.
//!
//! Calls for one order run one at a time, in the order they were decided;
//! calls for different orders run concurrently. Every call is idempotent at
//! the provider (a repeated identical call is answered as the first was, or
//! carries an idempotency key, see [`idempotency_key`]), so a call that was
//! made but not recorded before a crash is simply made again.
//!
//! The dispatcher knows no provider: each row's call is made by its channel
//! ([`crate::channels::Channels::run`]), which writes the outcome together
//! with the row, or answers how the row waits ([`Attempt`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::channels::{CallError, Channels};
use crate::domain::time;
use crate::heartbeat::{self, Heartbeat};
use crate::metrics::Metrics;
use crate::problems::ProviderProblems;
use crate::store::outbox::OutboxRow;
use crate::store::{self, Store, outbox};

/// When and how often to retry a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// After this long since the call was first due, it is dead.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1` (exponential, with jitter, capped).
    pub fn delay(&self, attempts: u32) -> Duration {
        ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(attempts as usize)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// What the dispatcher needs to run.
#[derive(Clone)]
pub struct Dispatcher {
    pub store: Store,
    /// The enabled channels' clients: who makes each kind of call.
    pub channels: Channels,
    pub retry: RetryPolicy,
    pub safety_stock: u32,
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

/// The idempotency key of outbox row `row_id`: `os-<installation>-<row>`
/// (at most 56 ASCII characters, within every provider's limit).
pub fn idempotency_key(installation_id: &str, row_id: i64) -> String {
    format!("os-{installation_id}-{row_id}")
}

/// How one attempt ended, as far as the outbox row is concerned.
#[derive(Debug)]
pub enum Attempt {
    /// The row was completed (or killed) together with its decision.
    Finished,
    /// Not made: due again after `pause` (no attempt counted); `note` says
    /// why, in the row.
    Wait { pause: Duration, note: &'static str },
    /// Try again later.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The provider refuses this installation's configuration: the call waits
    /// (no attempt counted, never given up) while the problem is shown.
    Blocked { fix: String },
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
        let next = self.store.read(outbox::next_due_ms).await.ok().flatten();
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
            safety_stock: self.safety_stock,
            installation_id: &self.installation_id,
        };
        let result = match self.channels.run(&ctx).await {
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

/// What a channel's call part gets for one outbox row: the store to write its
/// outcome in, the metrics to time it with, and the retry budget.
pub struct CallContext<'a> {
    pub store: &'a Store,
    pub metrics: &'a Metrics,
    pub row: &'a OutboxRow,
    pub retry: RetryPolicy,
    pub safety_stock: u32,
    pub installation_id: &'a str,
}

impl CallContext<'_> {
    /// The row's idempotency key (see [`idempotency_key`]): a retry after a
    /// crash reuses it, so the provider replays its first answer.
    pub fn idempotency_key(&self) -> String {
        idempotency_key(self.installation_id, self.row.id)
    }

    /// The attempt for a failure the row cannot finish with: retry later, or
    /// wait for a person to mend the configuration.
    pub fn failed(&self, e: CallError) -> Attempt {
        let row = self.row;
        tracing::warn!(outbox_id = row.id, kind = row.kind, attempt = row.attempts + 1, error = %e, "provider call failed");
        match e {
            CallError::Transient {
                reason,
                retry_after,
            } => Attempt::Retry {
                error: reason,
                retry_after,
            },
            CallError::Rejected {
                http_status,
                code,
                message,
            } => Attempt::Retry {
                error: format!("{http_status} {code}: {message}"),
                retry_after: None,
            },
            CallError::Configuration { fix, .. } => Attempt::Blocked { fix },
        }
    }

    /// A transient failure: `Err` to retry later, or, once the retry budget is
    /// spent, `Ok` with the reason to give the call up.
    pub fn give_up_or_retry(&self, e: CallError) -> Result<String, Attempt> {
        let attempt = self.failed(e);
        match &attempt {
            Attempt::Retry { error, retry_after } if self.budget_spent(*retry_after) => {
                Ok(error.clone())
            }
            _ => Err(attempt),
        }
    }

    /// How a failed call ends: a transient failure is retried until its
    /// budget is spent (then `Ok` with the reason, to give up), a
    /// configuration problem waits, and a refusal is `Ok` with `refused`'s
    /// wording of it.
    pub fn settle(
        &self,
        e: CallError,
        refused: impl FnOnce(&CallError) -> String,
    ) -> Result<String, Attempt> {
        match e {
            CallError::Transient { .. } => self.give_up_or_retry(e),
            CallError::Configuration { .. } => Err(self.failed(e)),
            CallError::Rejected { .. } => Ok(refused(&e)),
        }
    }

    /// Whether the next retry would fall after the call's budget ends.
    fn budget_spent(&self, retry_after: Option<Duration>) -> bool {
        let next = time::unix_ms(time::now())
            + self
                .retry
                .delay(self.row.attempts)
                .max(retry_after.unwrap_or_default())
                .as_millis() as i64;
        next - self.row.budget_from_ms > self.retry.give_up_after.as_millis() as i64
    }
}

/// The attempt for a call whose channel is not enabled: it waits, in case
/// the merchant enables it again.
pub fn not_configured(provider: &str) -> Attempt {
    Attempt::Retry {
        error: format!("{provider} is not enabled in the config; the call waits"),
        retry_after: Some(Duration::from_secs(300)),
    }
}

fn order_key(row: &OutboxRow, order_id: &str) -> String {
    format!("{}:{order_id}", row.channel.as_deref().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            give_up_after: Duration::from_secs(86400),
        };
        let first = p.delay(0);
        assert!(
            first >= Duration::from_secs(2) && first <= Duration::from_secs(4),
            "{first:?}"
        );
        let fifth = p.delay(4);
        assert!(
            fifth >= Duration::from_secs(32) && fifth <= Duration::from_secs(64),
            "{fifth:?}"
        );
        assert!(p.delay(40) <= Duration::from_secs(600));
    }
}
