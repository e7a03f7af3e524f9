//! The Rakuten Pay poller: search a sliding window of order dates (overlapping
//! the previous poll, so an outage shorter than `lookback` loses nothing), read
//! new and still-changing orders in chunks of 100, import and allocate them,
//! confirm the ones fully allocated. The licence key's expiry is watched
//! beside it ([`super::licence`]), never in its way.

use crate::worker::{Wake, Worker};
use futures_util::future::BoxFuture;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::licence::LicenceWatch;
use crate::call::CallError;
use crate::domain::Provider;
use crate::domain::time;
use crate::heartbeat::{self, Heartbeat};
use crate::metrics::Metrics;
use crate::providers::pacer::Pacer;
use crate::providers::polling::{self, last_success_key};
use crate::providers::rakuten_pay::Progress;
use crate::providers::rakuten_pay::apply as flow;
use crate::providers::rakuten_pay::client::{self, RakutenClient};
use crate::providers::rakuten_pay::config::RakutenPayConfig;
use crate::providers::rakuten_pay::rules;
use crate::store::kv;
use crate::worker::WorkerContext;

const PROVIDER: Provider = Provider::RakutenPay;
/// After the key is refused, poll no faster than this (no tight loop).
const CREDENTIAL_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Set once the first start's backfill (or an existing store) is behind us.
const BACKFILL_DONE_KEY: &str = "rakuten_pay.backfill_done";

/// The Rakuten client with its request pacing, shared by the poller and the dispatcher.
pub struct RakutenApi {
    pub client: RakutenClient,
    pub pacer: Pacer,
}

/// What one poll did (for logs and tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollReport {
    pub searched: usize,
    pub read: usize,
    pub confirmed: usize,
    pub events: usize,
}

#[derive(Clone)]
pub struct RakutenPoller {
    /// The store, the dispatcher's wake, the metrics and the problems.
    pub ctx: WorkerContext,
    pub api: Arc<RakutenApi>,
    pub config: RakutenPayConfig,
    /// Poll now instead of waiting for the interval.
    pub poke: Arc<Notify>,
    /// Checked in around every poll; feeds the systemd watchdog.
    pub heartbeat: Heartbeat,
}

impl RakutenPoller {
    pub async fn run(self, shutdown: CancellationToken) {
        // Its own task: a slow or refused expiry check never holds a poll.
        let watch = LicenceWatch {
            store: self.ctx.store.clone(),
            api: self.api.clone(),
            metrics: self.ctx.metrics.clone(),
        };
        let licence = tokio::spawn(watch.run(shutdown.child_token()));
        loop {
            self.heartbeat.beat(heartbeat::POLL_ALLOWANCE);
            let result = self.poll_once().await;
            self.ctx
                .problems
                .observe(PROVIDER, result.as_ref().map(|_| ()))
                .await;
            let wait = match result {
                Ok(report) => {
                    tracing::info!(?report, "Rakuten poll done");
                    self.config.poll_interval
                }
                Err(e) if client::is_credential_error(&e) => {
                    self.config.poll_interval.max(CREDENTIAL_BACKOFF)
                }
                Err(e) => {
                    // Maintenance (nightly) or an outage: the next window overlaps this one.
                    tracing::warn!(error = %e, "Rakuten poll failed; retrying at the next interval");
                    self.config.poll_interval
                }
            };
            if !polling::rest(&self.heartbeat, &self.poke, &shutdown, wait).await {
                break;
            }
        }
        let _ = licence.await;
    }

    /// One full poll. Errors leave what was already applied in place.
    pub async fn poll_once(&self) -> Result<PollReport, CallError> {
        let mut report = PollReport::default();
        let now = time::now();
        let mut windows = rules::windows(now, self.config.lookback, client::MAX_SEARCH_WINDOW);
        let backfill = self.backfill_due().await?;
        if backfill {
            // A first start: the orders still open from before the lookback
            // too, so a merchant switching tools loses none.
            windows.extend(rules::backfill_windows(
                now,
                self.config.lookback,
                client::MAX_SEARCH_WINDOW,
            ));
        }
        let found = search(&self.api, &self.ctx.metrics, windows).await?;
        report.searched = found.len();
        let mut numbers = found;
        let mut seen: HashSet<String> = numbers.iter().cloned().collect();
        for n in flow::open_order_numbers(&self.ctx.store).await? {
            if seen.insert(n.clone()) {
                numbers.push(n);
            }
        }
        for chunk in numbers.chunks(client::MAX_ORDERS_PER_CALL) {
            let orders = read_chunk(&self.api, &self.ctx.metrics, chunk).await?;
            report.read += orders.len();
            let events =
                flow::apply_orders(&self.ctx.store, orders, self.config.sku_preference.clone())
                    .await?;
            report.events += events.len();
        }
        if self.config.auto_confirm {
            let ready = flow::to_confirm(&self.ctx.store).await?;
            for chunk in ready.chunks(client::MAX_ORDERS_PER_CALL) {
                self.api.pacer.wait().await;
                let results = self
                    .ctx
                    .metrics
                    .timed(PROVIDER, self.api.client.confirm_order(chunk))
                    .await?;
                report.confirmed += results.len();
                flow::apply_confirmations(&self.ctx.store, results).await?;
            }
        }
        // Milliseconds: two polls within a second are still told apart.
        let now = time::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        self.ctx
            .store
            .write(move |tx| {
                kv::set(tx, &last_success_key(PROVIDER), &now, &now)?;
                kv::set(tx, BACKFILL_DONE_KEY, &now, &now)
            })
            .await?;
        if backfill {
            tracing::info!(
                searched = report.searched,
                "Rakuten: first start; open orders from before the lookback searched too"
            );
        }
        self.ctx.dispatcher_wake.notify_one();
        Ok(report)
    }

    /// Whether this poll must also search before the lookback: nothing was
    /// ever imported from Rakuten here. An existing store is marked done.
    async fn backfill_due(&self) -> crate::store::Result<bool> {
        self.ctx
            .store
            .read(|c| {
                if kv::get(c, BACKFILL_DONE_KEY)?.is_some() {
                    return Ok(false);
                }
                Ok(!c
                    .prepare_cached("SELECT 1 FROM orders WHERE channel = 'rakuten' LIMIT 1")?
                    .exists([])?)
            })
            .await
    }
}

/// Order numbers in 100/200/300 ordered within `windows`.
pub(super) async fn search(
    api: &RakutenApi,
    metrics: &Metrics,
    mut pending: Vec<(
        chrono::DateTime<chrono::FixedOffset>,
        chrono::DateTime<chrono::FixedOffset>,
    )>,
) -> Result<Vec<String>, CallError> {
    let progress = [
        Progress::AwaitingConfirmation,
        Progress::RakutenProcessing,
        Progress::AwaitingShipment,
    ];
    let mut numbers = vec![];
    while let Some(window) = pending.pop() {
        let mut page = 1;
        let mut found = vec![];
        loop {
            api.pacer.wait().await;
            let result = metrics
                .timed(
                    PROVIDER,
                    api.client.search_order(window.0, window.1, &progress, page),
                )
                .await?;
            if page == 1
                && result.exceeds_search_limit()
                && let Some(halves) = rules::halve(window)
            {
                // Too many for one search: narrow the window.
                pending.extend(halves);
                found.clear();
                break;
            }
            found.extend(result.order_numbers.iter().cloned());
            match result.next_page() {
                Some(next) => page = next,
                None => break,
            }
        }
        numbers.extend(found);
    }
    let mut seen = HashSet::new();
    numbers.retain(|n| seen.insert(n.clone()));
    Ok(numbers)
}

/// Reads up to 100 orders. An order Rakuten sends in a shape we cannot
/// read is left out (and logged) so it cannot block the others; it is
/// tried again at the next poll, and never imported half.
pub(super) async fn read_chunk(
    api: &RakutenApi,
    metrics: &Metrics,
    chunk: &[String],
) -> Result<Vec<crate::providers::rakuten_pay::RakutenOrder>, CallError> {
    let mut asked: Vec<String> = chunk.to_vec();
    loop {
        api.pacer.wait().await;
        match metrics.timed(PROVIDER, api.client.get_order(&asked)).await {
            Ok(orders) => return Ok(orders),
            Err(CallError::Rejected { code, message, .. }) if code == client::MALFORMED_ORDER => {
                let bad = message
                    .strip_prefix("order ")
                    .and_then(|m| m.split(':').next())
                    .map(str::to_string);
                tracing::warn!(reason = %message, "Rakuten sent an order this daemon cannot read; skipping it this poll");
                match bad {
                    Some(b) if asked.contains(&b) => asked.retain(|n| *n != b),
                    _ => return Ok(vec![]),
                }
                if asked.is_empty() {
                    return Ok(vec![]);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

impl Worker for RakutenPoller {
    fn name(&self) -> &'static str {
        "Rakuten poller"
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        Some(self.heartbeat.clone())
    }

    fn wake(&self) -> Wake {
        Wake::Poll(self.poke.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(RakutenPoller::run(*self, stop))
    }
}
