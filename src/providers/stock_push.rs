//! The stock push every sales channel shares: keeps a channel from selling
//! what is no longer free, within the channel's `stock_push_interval` of a
//! change. A channel supplies only how one batch is sent and how its answer
//! reads ([`StockChannel`]); J-goods (`PUT /item.json`) and Rakuten
//! (`bulk-upsert`) are the two today.
//!
//! Durable by construction: a stock change owes its SKU to every pushing
//! channel in the same transaction (triggers, see [`crate::store::stock_push`]);
//! this task sends the *current* availability of owed SKUs and clears a SKU
//! only after the channel accepted that value. A crash or an outage loses
//! nothing: the owed rows wait in the store.
//!
//! Debounce: a SKU is pushed at once after its first change, then at most once
//! per interval; every change inside the interval is folded into the next push,
//! which carries the latest value.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::call::CallError;

use crate::call::RetryPolicy;
use crate::domain::Provider;
use crate::domain::{Channel, time};
use crate::heartbeat::{self, Heartbeat};
use crate::store::StoreError;
use crate::store::stock_push::{self, OwedPush};
use crate::worker::{Wake, Worker, WorkerContext};

/// After a burst of commits, wait this long so one call carries the burst.
const COALESCE: Duration = Duration::from_millis(50);
/// Batches in one round at most; the rest go in the next round.
const MAX_BATCHES_PER_ROUND: usize = 100;

/// How a channel answered one SKU of an accepted call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The channel took the value.
    Accepted,
    /// The channel has no such item: delivered (a retry could never
    /// succeed), reported once, tried again after the next change.
    Unknown,
    /// Refused for a reason the contract does not name: held back like a 5xx.
    Refused(String),
    /// The channel does not sell this SKU (Rakuten: no pair in the SKU map):
    /// nothing was sent, nothing is owed.
    NotListed,
    /// The channel refused this SKU's entry and the rest of its batch went
    /// without it (Rakuten: `bulk-upsert` naming one entry). The channel's own
    /// part keeps the refusal and shows it; the change counts as delivered.
    SetAside,
}

impl Verdict {
    fn metric(&self) -> &'static str {
        match self {
            Verdict::Accepted => "updated",
            Verdict::Unknown => "unknown_item",
            Verdict::Refused(_) => "refused",
            Verdict::NotListed => "not_listed",
            Verdict::SetAside => "set_aside",
        }
    }
}

/// What a sales channel supplies to the shared push.
pub trait StockChannel: Send + Sync + 'static {
    /// The channel told.
    const CHANNEL: Channel;
    /// Its provider, for problems and call metrics.
    const PROVIDER: Provider;
    /// The worker's name in the logs.
    const WORKER: &'static str;
    /// SKUs one batch carries at most.
    const BATCH: usize;
    /// The part of the provider a refused configuration of this push is the
    /// problem of (Rakuten: `inventories`, an RMS function of its own), kept
    /// apart from the provider's; `None`: the provider's own problem.
    const PROBLEM_PART: Option<&'static str> = None;

    /// Runs before a round with the SKUs first due (Rakuten: imports the
    /// orders placed since the last poll, so the values pushed count them).
    /// `true` when it may have changed stock: the due SKUs are read again.
    /// An error is logged and the round goes on.
    fn before_round(
        &self,
        due: &[OwedPush],
    ) -> impl Future<Output = Result<bool, CallError>> + Send {
        let _ = due;
        async { Ok(false) }
    }

    /// Runs at every turn of the worker, pushes due or not (Rakuten: learns
    /// the SKU map when it is due, watches low stock); returns how soon it
    /// wants the next turn (`None`: whenever a push is due).
    fn tick(&self) -> impl Future<Output = Option<Duration>> + Send {
        async { None }
    }

    /// Sends one batch; one verdict per SKU, in order.
    fn send(
        &self,
        batch: &[OwedPush],
    ) -> impl Future<Output = Result<Vec<Verdict>, CallError>> + Send;
}

/// What one round sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushRound {
    /// Batches the channel accepted.
    pub calls: usize,
    /// SKUs the channel took.
    pub updated: usize,
    /// SKUs the channel does not know.
    pub unknown: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the channel refused the stock push: {0}")]
    Provider(CallError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stock-push worker of one channel.
pub struct StockPusher<C: StockChannel> {
    /// The store, the metrics and where a refused configuration is shown.
    ctx: WorkerContext,
    channel: C,
    interval: Duration,
    /// Backoff after failures that carry no `Retry-After`.
    retry: RetryPolicy,
    /// Failed calls in a row, for the backoff.
    failures: AtomicU32,
    /// Watched by the systemd watchdog like the pollers'.
    pub heartbeat: Heartbeat,
    /// Pushes what is due now (`Daemon::push_stock_now`).
    pub wake: Arc<Notify>,
}

impl<C: StockChannel> StockPusher<C> {
    pub fn new(
        ctx: &WorkerContext,
        channel: C,
        interval: Duration,
        retry: RetryPolicy,
    ) -> StockPusher<C> {
        StockPusher {
            ctx: ctx.clone(),
            channel,
            interval,
            retry,
            failures: AtomicU32::new(0),
            heartbeat: Heartbeat::unwatched(C::WORKER),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The channel's own part.
    pub fn channel(&self) -> &C {
        &self.channel
    }

    /// Pushes whatever is due, then sleeps until the next SKU is due, a
    /// commit in this process, a `wake`, or shutdown.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            // A round makes a call per batch, each bounded by http_timeout:
            // a poll's allowance covers it.
            self.heartbeat.beat(heartbeat::POLL_ALLOWANCE);
            let again = self.channel.tick().await;
            let result = self.push_due(now_ms()).await;
            self.report(&result).await;
            let wait = self.until_next_due().await;
            let wait = again.map_or(wait, |again| wait.min(again));
            self.heartbeat
                .beat(wait + COALESCE + heartbeat::TURN_ALLOWANCE);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wake.notified() => {}
                // Stock changes by this process wake us at once; other
                // processes (the CLI) are seen at the next periodic check.
                _ = self.ctx.store.wait_for_commit(wait) => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(COALESCE) => {}
                    }
                }
            }
        }
    }

    async fn report(&self, result: &Result<PushRound, PushError>) {
        let problems = &self.ctx.problems;
        match result {
            Ok(round) if round.calls > 0 => {
                match C::PROBLEM_PART {
                    Some(part) => problems.observe_part(C::PROVIDER, part, Ok(())).await,
                    None => problems.observe(C::PROVIDER, Ok(())).await,
                }
                tracing::debug!(
                    channel = C::CHANNEL.as_str(),
                    calls = round.calls,
                    updated = round.updated,
                    unknown = round.unknown,
                    "stock pushed"
                );
            }
            Ok(_) => {}
            Err(e) => {
                if let PushError::Provider(call) = e {
                    match C::PROBLEM_PART {
                        Some(part) => problems.observe_part(C::PROVIDER, part, Err(call)).await,
                        None => problems.observe(C::PROVIDER, Err(call)).await,
                    }
                }
                tracing::warn!(channel = C::CHANNEL.as_str(), error = %e, "stock push failed; owed SKUs wait for the retry");
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        let interval_ms = millis(self.interval);
        let next = self
            .ctx
            .store
            .read(move |c| stock_push::next_due_ms(c, C::CHANNEL, interval_ms))
            .await;
        match next {
            Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64).min(self.interval),
            _ => self.interval,
        }
    }

    /// One round at `now_ms`: pushes every due SKU, a batch a call. On a 429
    /// or 5xx the SKUs of that batch are held back (for `Retry-After`, or the
    /// backoff) and the round stops.
    pub async fn push_due(&self, now_ms: i64) -> Result<PushRound, PushError> {
        let mut round = PushRound::default();
        let interval_ms = millis(self.interval);
        let due = || {
            self.ctx
                .store
                .read(move |c| stock_push::due(c, C::CHANNEL, now_ms, interval_ms, C::BATCH as u32))
        };
        let mut owed = due().await?;
        if owed.is_empty() {
            return Ok(round);
        }
        match self.channel.before_round(&owed).await {
            Ok(true) => owed = due().await?,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(channel = C::CHANNEL.as_str(), error = %e, "the check before the stock push failed; pushing what the mirror has");
            }
        }
        for turn in 0..MAX_BATCHES_PER_ROUND {
            if turn > 0 {
                owed = due().await?;
            }
            if owed.is_empty() {
                break;
            }
            let batch = std::mem::take(&mut owed);
            match self.channel.send(&batch).await {
                Ok(verdicts) => {
                    self.failures.store(0, Ordering::Relaxed);
                    // A batch the channel sells none of made no call.
                    if verdicts.iter().any(|v| *v != Verdict::NotListed) {
                        self.ctx.metrics.stock_push_call(C::CHANNEL, "ok");
                        round.calls += 1;
                    }
                    let (updated, unknown) = self.record(batch, verdicts, now_ms).await?;
                    round.updated += updated;
                    round.unknown += unknown;
                }
                Err(e) => {
                    self.ctx.metrics.stock_push_call(C::CHANNEL, "error");
                    self.hold_back(batch, &e, now_ms).await?;
                    return Err(PushError::Provider(e));
                }
            }
        }
        Ok(round)
    }

    /// Holds a failed batch back: for `Retry-After`, the backoff, or (a
    /// refused batch is a bug on one side or the other) slowly.
    async fn hold_back(
        &self,
        owed: Vec<OwedPush>,
        e: &CallError,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed);
        let wait = match e {
            CallError::Transient {
                retry_after: Some(after),
                ..
            } => *after,
            CallError::Transient { .. } => self.retry.delay(failures),
            CallError::Rejected { .. } | CallError::Configuration { .. } => self.retry.max_delay,
        };
        let until = now_ms + millis(wait);
        let skus: Vec<String> = owed.into_iter().map(|p| p.sku).collect();
        self.ctx
            .store
            .write(move |tx| {
                let refs: Vec<&str> = skus.iter().map(String::as_str).collect();
                stock_push::hold_back(tx, C::CHANNEL, &refs, until)
            })
            .await
    }

    /// Stores how the channel answered one batch; returns (updated, unknown).
    async fn record(
        &self,
        owed: Vec<OwedPush>,
        verdicts: Vec<Verdict>,
        now_ms: i64,
    ) -> Result<(usize, usize), StoreError> {
        let mut sorted: Vec<(OwedPush, Verdict)> = owed.into_iter().zip(verdicts).collect();
        for kind in [
            "updated",
            "unknown_item",
            "refused",
            "not_listed",
            "set_aside",
        ] {
            let n = sorted.iter().filter(|(_, v)| v.metric() == kind).count();
            self.ctx.metrics.stock_push_items(C::CHANNEL, kind, n);
        }
        for (push, verdict) in &sorted {
            if let Verdict::Refused(code) = verdict {
                tracing::warn!(channel = C::CHANNEL.as_str(), sku = %push.sku, %code, "the channel refused the stock of an item; retrying later");
            }
        }
        let count = |v: &Verdict| sorted.iter().filter(|(_, x)| x == v).count();
        let counts = (count(&Verdict::Accepted), count(&Verdict::Unknown));
        let retry_at = now_ms + millis(self.retry.max_delay);
        let newly_unknown = self
            .ctx
            .store
            .write(move |tx| {
                let now = time::rfc3339(time::now());
                let mut newly = Vec::new();
                for (push, verdict) in sorted.drain(..) {
                    match verdict {
                        Verdict::Accepted => stock_push::accepted(tx, C::CHANNEL, &push, now_ms)?,
                        Verdict::NotListed | Verdict::SetAside => {
                            stock_push::passed_over(tx, C::CHANNEL, &push, now_ms)?
                        }
                        Verdict::Unknown => {
                            if stock_push::unknown_item(tx, C::CHANNEL, &push, now_ms, &now)? {
                                newly.push(push.sku);
                            }
                        }
                        Verdict::Refused(_) => {
                            stock_push::hold_back(tx, C::CHANNEL, &[&push.sku], retry_at)?
                        }
                    }
                }
                Ok(newly)
            })
            .await?;
        for sku in newly_unknown {
            tracing::warn!(channel = C::CHANNEL.as_str(), %sku, "the channel has no item for this SKU; its stock is pushed again only after its next change");
        }
        Ok(counts)
    }
}

fn now_ms() -> i64 {
    time::unix_ms(time::now())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl<C: StockChannel> Worker for StockPusher<C> {
    fn name(&self) -> &'static str {
        C::WORKER
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        Some(self.heartbeat.clone())
    }

    fn wake(&self) -> Wake {
        Wake::StockPush(C::CHANNEL, self.wake.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin((*self).run(stop))
    }
}
