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

use crate::worker::Worker;
use futures_util::future::BoxFuture;
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

    /// One turn by hand, without the loop: makes the call of every row due
    /// now, one after the other (so an order's calls keep their order), and
    /// answers how many it made. Tests and tools drive the outbox to idle
    /// with it (`while dispatcher.step().await? > 0 {}`); a row whose call
    /// waits or is retried later is not due again within the same turn.
    pub async fn step(&self) -> store::Result<usize> {
        let limit = u32::try_from(self.concurrency.max(1)).unwrap_or(u32::MAX);
        let rows = self
            .store
            .read(move |c| outbox::due(c, time::unix_ms(time::now()), limit))
            .await?;
        let made = rows.len();
        for row in rows {
            self.attempt_logged(row).await;
        }
        Ok(made)
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

impl Worker for Dispatcher {
    fn name(&self) -> &'static str {
        "dispatcher"
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        Some(self.heartbeat.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(Dispatcher::run(*self, stop))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures_util::FutureExt as _;
    use futures_util::future::BoxFuture;

    use super::*;
    use crate::call::outcome::{self, CallOutcome};
    use crate::engine::{Call, EventKind};

    /// Records every call it is given and finishes it, except the first
    /// attempt of a call for `fail_once`, which it asks to retry.
    #[derive(Default)]
    struct Recorder {
        made: Mutex<Vec<i64>>,
        fail_once: Option<String>,
    }

    impl CallRunner for Recorder {
        fn run<'a>(&'a self, ctx: &'a CallContext<'a>) -> BoxFuture<'a, store::Result<Attempt>> {
            async move {
                self.made.lock().unwrap().push(ctx.row.id);
                let first = ctx.row.attempts == 0;
                if first && ctx.row.order_id == self.fail_once {
                    return Ok(Attempt::Retry {
                        error: "503".into(),
                        retry_after: Some(Duration::from_millis(1)),
                    });
                }
                let done = CallOutcome::Done {
                    kind: EventKind::CallRetried,
                    detail: serde_json::json!({}),
                };
                outcome::finish(ctx.store, ctx.row.id, None, done).await?;
                Ok(Attempt::Finished)
            }
            .boxed()
        }
    }

    fn dispatcher(store: &Store, runner: Arc<Recorder>) -> Dispatcher {
        Dispatcher {
            store: store.clone(),
            runner,
            retry: RetryPolicy {
                initial_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(1),
                give_up_after: Duration::from_secs(60),
            },
            concurrency: 4,
            wake: Arc::default(),
            heartbeat: Heartbeat::unwatched("dispatcher"),
            metrics: Arc::default(),
            problems: ProviderProblems::default(),
            installation_id: "test".into(),
        }
    }

    async fn queue(store: &Store, order: &'static str, n: usize) {
        store
            .write(move |tx| {
                for _ in 0..n {
                    let call = Call::JgoodsFetchOrder {
                        order_no: order.into(),
                    };
                    outbox::enqueue(tx, &call, Some(("jgoods", order)), "x")?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn steps_drive_the_outbox_to_idle_in_each_order_s_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path(), 0).unwrap();
        queue(&store, "A", 3).await;
        queue(&store, "B", 1).await;
        let runner = Arc::new(Recorder {
            fail_once: Some("B".into()),
            ..Recorder::default()
        });
        let d = dispatcher(&store, runner.clone());
        let mut turns = 0;
        loop {
            let made = d.step().await.unwrap();
            if made == 0
                && store
                    .read(|c| outbox::next_due_ms(c))
                    .await
                    .unwrap()
                    .is_none()
            {
                break;
            }
            turns += 1;
            assert!(turns < 100, "the outbox never became idle");
            if made == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        let made = runner.made.lock().unwrap().clone();
        // A's three calls in the order they were queued, B's twice (its
        // first attempt was retried), nothing else.
        let a: Vec<i64> = made.iter().copied().filter(|id| *id <= 3).collect();
        assert_eq!(a, [1, 2, 3]);
        assert_eq!(made.iter().filter(|id| **id == 4).count(), 2);
        assert_eq!(made.len(), 5);
    }
}
