//! What the pushing simulators (J-goods, KOMOJU) share: one queue per order
//! or payment, so one subject's events arrive in order while the others do
//! not wait for it, and each push retried with doubling delays within a
//! budget, as both providers retry anything but a 2xx. A simulator supplies
//! its hooks ([`Pusher`]): where to post, how one attempt is signed and sent,
//! and where its outcome is recorded.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

/// Where a webhook push stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Queued, held, or being retried.
    Pending,
    /// A 2xx came back.
    Acked,
    /// The retry budget ran out.
    Abandoned,
    /// No webhook URL was set, so nothing was sent.
    Skipped,
}

/// Webhook counters; `attempts == acked + failed` once the queues are idle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookStats {
    /// Pushes queued (events and resends).
    pub events: usize,
    /// HTTP attempts made, retries included.
    pub attempts: usize,
    /// Attempts the receiver answered with a 2xx.
    pub acked: usize,
    /// Attempts that got a non-2xx or no answer at all.
    pub failed: usize,
    /// Pushes given up after the retry budget.
    pub abandoned: usize,
    /// Pushes dropped because no webhook URL was configured.
    pub skipped: usize,
}

impl WebhookStats {
    /// Counts one attempt.
    pub fn attempted(&mut self, acked: bool) {
        self.attempts += 1;
        if acked {
            self.acked += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Counts how a push ended.
    pub fn ended(&mut self, outcome: DeliveryOutcome) {
        match outcome {
            DeliveryOutcome::Abandoned => self.abandoned += 1,
            DeliveryOutcome::Skipped => self.skipped += 1,
            DeliveryOutcome::Acked | DeliveryOutcome::Pending => {}
        }
    }
}

/// How long a push is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries {
    /// The first wait after a failed attempt; each next one doubles.
    pub initial: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
    /// No attempt starts after this long since the first.
    pub budget: Duration,
}

/// What a pushing simulator records of its pushes: the counters, and each
/// push's attempts and outcome.
pub trait PushLog {
    /// The counters of every push.
    fn counters(&mut self) -> &mut WebhookStats;
    /// The attempts and outcome of push record `record`, if it exists.
    fn push_mut(&mut self, record: usize) -> Option<(&mut u32, &mut DeliveryOutcome)>;
}

/// A simulator's side of pushing webhooks.
pub trait Pusher: Send + Sync + 'static {
    /// One push of one event: the exact bytes every attempt sends.
    type Delivery: Send + Sync + 'static;

    /// Cancelled when the simulator shuts down.
    fn cancelled(&self) -> &CancellationToken;
    /// The retry policy of the simulator's config.
    fn retries(&self) -> Retries;
    /// Where to post; `None` skips the push.
    fn webhook_url(&self) -> Option<String>;
    /// One HTTP attempt: `true` on a 2xx.
    fn post_once(&self, url: &str, delivery: &Self::Delivery) -> impl Future<Output = bool> + Send;
    /// The push record `delivery` is counted in.
    fn record_of(delivery: &Self::Delivery) -> usize;
    /// Runs `f` on the simulator's push log, under its lock.
    fn with_log(&self, f: &mut dyn FnMut(&mut dyn PushLog));

    /// Records one attempt and whether it was acknowledged.
    fn count_attempt(&self, delivery: &Self::Delivery, acked: bool) {
        let record = Self::record_of(delivery);
        self.with_log(&mut |log| {
            log.counters().attempted(acked);
            if let Some((attempts, _)) = log.push_mut(record) {
                *attempts += 1;
            }
        });
    }

    /// Records how the push ended.
    fn finish(&self, delivery: &Self::Delivery, outcome: DeliveryOutcome) {
        let record = Self::record_of(delivery);
        self.with_log(&mut |log| {
            log.counters().ended(outcome);
            if let Some((_, ended)) = log.push_mut(record) {
                *ended = outcome;
            }
        });
    }
}

/// Drains one queue until the simulator shuts down.
pub async fn run_queue<P: Pusher>(pusher: Arc<P>, mut queue: mpsc::UnboundedReceiver<P::Delivery>) {
    loop {
        let next = tokio::select! {
            _ = pusher.cancelled().cancelled() => return,
            next = queue.recv() => next,
        };
        let Some(delivery) = next else { return };
        tokio::select! {
            _ = pusher.cancelled().cancelled() => return,
            _ = deliver(pusher.as_ref(), &delivery) => {}
        }
    }
}

/// Attempts one push until a 2xx or until the next wait would pass the budget.
pub async fn deliver<P: Pusher>(pusher: &P, delivery: &P::Delivery) {
    let retries = pusher.retries();
    let started = Instant::now();
    let mut delay = retries.initial;
    loop {
        let Some(url) = pusher.webhook_url() else {
            pusher.finish(delivery, DeliveryOutcome::Skipped);
            return;
        };
        let acked = pusher.post_once(&url, delivery).await;
        pusher.count_attempt(delivery, acked);
        if acked {
            pusher.finish(delivery, DeliveryOutcome::Acked);
            return;
        }
        if started.elapsed() + delay > retries.budget {
            pusher.finish(delivery, DeliveryOutcome::Abandoned);
            return;
        }
        sleep(delay).await;
        delay = delay.saturating_mul(2).min(retries.max);
    }
}
