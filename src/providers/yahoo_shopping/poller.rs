//! The Yahoo!ショッピング poller. `orderList` has no update-time condition
//! and hides nothing when asked with `ReadOnlyMode 2`, so each poll lists
//! the orders placed in `[high water − lookback, now]` by `OrderTime`, and
//! the same span by `PublicationTime` (fraud holds released later), then
//! reads with `orderInfo` every order it does not know and every order whose
//! `LastUpdateTime` (or what else orderList shows, [`super::fingerprint`]) moved. Open orders older than the window are reached at
//! most hourly by a window back to the oldest of them. The first start
//! reaches back [`BACKFILL`] for what is still open.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::api::{Listed, MALFORMED_ORDER, Window};
use super::apply;
use super::config::YahooShoppingConfig;
use super::renewal;
use super::wiring::YahooApi;
use crate::call::CallError;
use crate::domain::{Provider, time};
use crate::heartbeat::{self, Heartbeat};
use crate::providers::polling::{self, last_success_key};
use crate::store::kv;
use crate::worker::{Wake, Worker, WorkerContext};

const PROVIDER: Provider = Provider::YahooShopping;
/// How far the first start reaches back for orders still open.
pub const BACKFILL: TimeDelta = TimeDelta::days(30);
/// Where the end of the last successful poll's window is kept.
pub const HIGH_WATER_KEY: &str = "yahoo_shopping.high_water";
/// Open orders older than the window are searched at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// The windows end this far past the daemon's clock, so an order Yahoo!
/// stamped a little ahead of it (clocks drift) is not left to the next poll.
const CLOCK_MARGIN: TimeDelta = TimeDelta::minutes(10);
/// After a refusal only a person can mend, poll no faster than this.
const CONFIGURATION_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// What one poll did (for logs and tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollReport {
    /// Orders listed.
    pub listed: usize,
    /// Orders read with orderInfo.
    pub read: usize,
    /// Mark-seen calls owed.
    pub marked: usize,
}

/// The poller worker.
#[derive(Clone)]
pub struct YahooPoller {
    /// The store, the dispatcher's wake, the metrics and the problems.
    pub ctx: WorkerContext,
    /// The client and its settings.
    pub api: Arc<YahooApi>,
    /// The section.
    pub config: YahooShoppingConfig,
    /// Poll now instead of waiting for the interval.
    pub poke: Arc<Notify>,
    /// Checked in around every poll.
    pub heartbeat: Heartbeat,
    /// When the open orders older than the window were last searched.
    pub swept_at: Arc<Mutex<Option<tokio::time::Instant>>>,
}

impl YahooPoller {
    async fn run(self, shutdown: CancellationToken) {
        loop {
            self.heartbeat.beat(heartbeat::POLL_ALLOWANCE);
            renewal::check(&self.ctx.store, &self.ctx.problems, &self.config).await;
            let result = self.poll_once().await;
            self.ctx
                .problems
                .observe(PROVIDER, result.as_ref().map(|_| ()))
                .await;
            let wait = match result {
                Ok(report) => {
                    tracing::info!(?report, "Yahoo! poll done");
                    self.config.poll_interval
                }
                Err(CallError::Configuration { .. }) => {
                    self.config.poll_interval.max(CONFIGURATION_BACKOFF)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Yahoo! poll failed; the next window overlaps this one");
                    self.config.poll_interval
                }
            };
            if !polling::rest(&self.heartbeat, &self.poke, &shutdown, wait).await {
                break;
            }
        }
    }

    /// One full poll. What was applied before an error stays applied.
    pub async fn poll_once(&self) -> Result<PollReport, CallError> {
        let mut report = PollReport::default();
        let now = time::now();
        let lookback = TimeDelta::from_std(self.config.lookback).unwrap_or(TimeDelta::days(3));
        let store = &self.ctx.store;
        let high_water = store.read(|c| kv::get(c, HIGH_WATER_KEY)).await?;
        let from = match high_water
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        {
            Some(h) => h.min(now) - lookback,
            None => now - BACKFILL.max(lookback),
        };
        let to = now + CLOCK_MARGIN;
        let mut listed = self.list(Window::OrderTime, from, to).await?;
        listed.extend(self.list(Window::PublicationTime, from, to).await?);
        if self.sweep_due()
            && let Some(oldest) = apply::oldest_open(store).await?
            && let Ok(oldest) = DateTime::parse_from_rfc3339(&oldest)
            && oldest < from
        {
            listed.extend(self.list(Window::OrderTime, oldest, from).await?);
            self.mark_swept();
        }
        report.listed = listed.len();
        let known = apply::known(store).await?;
        let mut asked = HashSet::new();
        for l in listed {
            if known.get(&l.order_id) == Some(&l.listed) || !asked.insert(l.order_id.clone()) {
                continue;
            }
            let read = self
                .ctx
                .metrics
                .timed(PROVIDER, self.api.client.order_info(&l.order_id))
                .await;
            match read {
                Ok(order) => {
                    report.read += 1;
                    apply::apply_order(store, order).await?;
                }
                Err(CallError::Rejected { code, message, .. })
                    if code == MALFORMED_ORDER || code == "od91801" =>
                {
                    // One bad order must not hold the others: tried again next poll.
                    tracing::warn!(reason = %message, code, "a Yahoo! order could not be read; skipped this poll");
                }
                Err(e) => return Err(e),
            }
        }
        if self.config.auto_confirm {
            report.marked = apply::owe_mark_seen(store).await?;
        }
        let stamp = time::rfc3339(now);
        let done = time::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        store
            .write(move |tx| {
                kv::set(tx, HIGH_WATER_KEY, &stamp, &done)?;
                kv::set(tx, &last_success_key(PROVIDER), &done, &done)
            })
            .await?;
        self.ctx.dispatcher_wake.notify_one();
        Ok(report)
    }

    async fn list(
        &self,
        window: Window,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<Listed>, CallError> {
        self.ctx
            .metrics
            .timed(PROVIDER, self.api.client.order_list(window, from, to))
            .await
    }

    fn sweep_due(&self) -> bool {
        let swept = self
            .swept_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY)
    }

    fn mark_swept(&self) {
        *self
            .swept_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tokio::time::Instant::now());
    }
}

impl Worker for YahooPoller {
    fn name(&self) -> &'static str {
        "Yahoo! poller"
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        Some(self.heartbeat.clone())
    }

    fn wake(&self) -> Wake {
        Wake::Poll(self.poke.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(YahooPoller::run(*self, stop))
    }
}
