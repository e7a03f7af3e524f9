//! Stock push to J-goods: keeps the J-goods site from selling what is no
//! longer free, within `[jgoods] stock_push_interval` of a change.
//!
//! Durable by construction: a stock change marks its SKU as owed in the same
//! transaction (triggers, see [`crate::store::stock_push`]); this task sends the
//! *current* availability of owed SKUs through `PUT /item.json` (at most 100 a
//! call) and clears a SKU only after J-goods accepted that value. A crash or an
//! outage loses nothing: the owed rows wait in the store.
//!
//! Debounce: a SKU is pushed at once after its first change, then at most once
//! per interval; every change inside the interval is folded into the next push,
//! which carries the latest value.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::channels::CallError;
use crate::channels::Provider;
use crate::channels::jgoods::client::{JgoodsClient, MAX_STOCK_ITEMS};
use crate::channels::jgoods::wire::{JgoodsItemStock, JgoodsItemStockResult};
use crate::domain::time;
use crate::heartbeat::{self, Heartbeat};
use crate::metrics::Metrics;
use crate::outbox::RetryPolicy;
use crate::problems::ProviderProblems;
use crate::store::stock_push::{self, OwedPush};
use crate::store::{Store, StoreError};

/// The per-item error J-goods gives for an item code it does not have.
const ITEM_NOT_FOUND: &str = "ITEM_NOT_FOUND";
/// After a burst of commits, wait this long so one call carries the burst.
const COALESCE: Duration = Duration::from_millis(50);
/// Calls in one round at most (10 000 SKUs); the rest go in the next round.
const MAX_CALLS_PER_ROUND: usize = 100;

/// What one round sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushRound {
    /// `PUT /item.json` calls answered 200.
    pub calls: usize,
    /// Items J-goods updated.
    pub updated: usize,
    /// Items J-goods does not know (`ITEM_NOT_FOUND`).
    pub unknown: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("J-goods refused the stock push: {0}")]
    Provider(CallError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How J-goods answered each SKU of one accepted call.
#[derive(Debug, Default, PartialEq, Eq)]
struct CallOutcome<'a> {
    accepted: Vec<&'a OwedPush>,
    unknown: Vec<&'a OwedPush>,
    /// Per-item errors the contract does not name: held back like a 5xx.
    refused: Vec<(&'a OwedPush, String)>,
}

/// Sorts the SKUs of a call by J-goods' per-item errors (pure).
fn sort_outcome<'a>(sent: &'a [OwedPush], result: &JgoodsItemStockResult) -> CallOutcome<'a> {
    let errors: HashMap<&str, &str> = result
        .errors
        .iter()
        .map(|e| (e.item_code.as_str(), e.code.as_str()))
        .collect();
    let mut out = CallOutcome::default();
    for push in sent {
        match errors.get(push.sku.as_str()) {
            None => out.accepted.push(push),
            Some(&ITEM_NOT_FOUND) => out.unknown.push(push),
            Some(code) => out.refused.push((push, (*code).to_string())),
        }
    }
    out
}

/// The stock-push worker.
pub struct StockPusher {
    store: Store,
    client: Arc<JgoodsClient>,
    interval: Duration,
    safety_stock: u32,
    /// Backoff after failures that carry no `Retry-After`.
    retry: RetryPolicy,
    metrics: Arc<Metrics>,
    /// Failed calls in a row, for the backoff.
    failures: AtomicU32,
    /// Watched by the systemd watchdog like the pollers'.
    pub heartbeat: Heartbeat,
    /// Where a refused configuration (client credentials) is shown.
    pub problems: ProviderProblems,
}

impl StockPusher {
    pub fn new(
        store: Store,
        client: Arc<JgoodsClient>,
        interval: Duration,
        safety_stock: u32,
        retry: RetryPolicy,
        metrics: Arc<Metrics>,
    ) -> StockPusher {
        StockPusher {
            store,
            client,
            interval,
            safety_stock,
            retry,
            metrics,
            failures: AtomicU32::new(0),
            heartbeat: Heartbeat::unwatched("J-goods stock push"),
            problems: ProviderProblems::default(),
        }
    }

    /// Pushes whatever is due, then sleeps until the next SKU is due, a
    /// commit in this process, a `wake`, or shutdown.
    pub async fn run(self, wake: Arc<Notify>, shutdown: CancellationToken) {
        loop {
            // A round makes a call per 100 owed SKUs, each bounded by
            // http_timeout: a poll's allowance covers it.
            self.heartbeat.beat(heartbeat::POLL_ALLOWANCE);
            let result = self.push_due(now_ms()).await;
            match &result {
                Ok(round) if round.calls > 0 => {
                    self.problems.observe(Provider::Jgoods, Ok(())).await
                }
                Err(PushError::Provider(e)) => {
                    self.problems.observe(Provider::Jgoods, Err(e)).await
                }
                _ => {}
            }
            match result {
                Ok(round) if round.calls > 0 => tracing::debug!(
                    calls = round.calls,
                    updated = round.updated,
                    unknown = round.unknown,
                    "stock pushed to J-goods"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "stock push failed; owed SKUs wait for the retry")
                }
            }
            let wait = self.until_next_due().await;
            self.heartbeat
                .beat(wait + COALESCE + heartbeat::TURN_ALLOWANCE);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.notified() => {}
                // Stock changes by this process wake us at once; other
                // processes (the CLI) are seen at the next periodic check.
                _ = self.store.wait_for_commit(wait) => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(COALESCE) => {}
                    }
                }
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        let interval_ms = millis(self.interval);
        let next = self
            .store
            .read(move |c| stock_push::next_due_ms(c, interval_ms))
            .await;
        match next {
            Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64).min(self.interval),
            _ => self.interval,
        }
    }

    /// One round at `now_ms`: pushes every due SKU, 100 a call. On a 429 or
    /// 5xx the SKUs of that call are held back (for `Retry-After`, or the
    /// backoff) and the round stops.
    pub async fn push_due(&self, now_ms: i64) -> Result<PushRound, PushError> {
        let mut round = PushRound::default();
        let (interval_ms, safety) = (millis(self.interval), self.safety_stock);
        while round.calls < MAX_CALLS_PER_ROUND {
            let owed = self
                .store
                .read(move |c| {
                    stock_push::due(c, now_ms, interval_ms, safety, MAX_STOCK_ITEMS as u32)
                })
                .await?;
            if owed.is_empty() {
                break;
            }
            let items: Vec<JgoodsItemStock> = owed
                .iter()
                .map(|p| JgoodsItemStock {
                    item_code: p.sku.clone(),
                    stock: u64::from(p.stock),
                })
                .collect();
            match self.client.put_item_stock(&items).await {
                Ok(result) => {
                    self.failures.store(0, Ordering::Relaxed);
                    let (updated, unknown) = self.record(owed, &result, now_ms).await?;
                    round.calls += 1;
                    round.updated += updated;
                    round.unknown += unknown;
                }
                Err(e) => {
                    self.metrics.stock_push_call("error");
                    let failures = self.failures.fetch_add(1, Ordering::Relaxed);
                    let wait = match &e {
                        CallError::Transient {
                            retry_after: Some(after),
                            ..
                        } => *after,
                        CallError::Transient { .. } => self.retry.delay(failures),
                        // A refused batch is a bug on one side or the other:
                        // retry, but slowly, and say so loudly.
                        CallError::Rejected { .. } => self.retry.max_delay,
                        CallError::Configuration { .. } => self.retry.max_delay,
                    };
                    let until = now_ms + millis(wait);
                    let skus: Vec<String> = owed.into_iter().map(|p| p.sku).collect();
                    self.store
                        .write(move |tx| {
                            let refs: Vec<&str> = skus.iter().map(String::as_str).collect();
                            stock_push::hold_back(tx, &refs, until)
                        })
                        .await?;
                    return Err(PushError::Provider(e));
                }
            }
        }
        Ok(round)
    }

    /// Stores how J-goods answered one call; returns (updated, unknown).
    async fn record(
        &self,
        owed: Vec<OwedPush>,
        result: &JgoodsItemStockResult,
        now_ms: i64,
    ) -> Result<(usize, usize), StoreError> {
        self.metrics.stock_push_call("ok");
        let outcome = sort_outcome(&owed, result);
        let counts = (outcome.accepted.len(), outcome.unknown.len());
        self.metrics.stock_push_items("updated", counts.0);
        self.metrics.stock_push_items("unknown_item", counts.1);
        self.metrics
            .stock_push_items("refused", outcome.refused.len());
        for (push, code) in &outcome.refused {
            tracing::warn!(sku = %push.sku, code = %code, "J-goods refused the stock of an item; retrying later");
        }
        let accepted: Vec<OwedPush> = outcome.accepted.into_iter().cloned().collect();
        let unknown: Vec<OwedPush> = outcome.unknown.into_iter().cloned().collect();
        let refused: Vec<String> = outcome
            .refused
            .into_iter()
            .map(|(p, _)| p.sku.clone())
            .collect();
        let retry_at = now_ms + millis(self.retry.max_delay);
        let newly_unknown = self
            .store
            .write(move |tx| {
                let now = time::rfc3339(time::now());
                for push in &accepted {
                    stock_push::accepted(tx, push, now_ms)?;
                }
                let mut newly = Vec::new();
                for push in &unknown {
                    if stock_push::unknown_item(tx, push, now_ms, &now)? {
                        newly.push(push.sku.clone());
                    }
                }
                let refs: Vec<&str> = refused.iter().map(String::as_str).collect();
                stock_push::hold_back(tx, &refs, retry_at)?;
                Ok(newly)
            })
            .await?;
        for sku in newly_unknown {
            tracing::warn!(%sku, "J-goods has no item with this code (ITEM_NOT_FOUND); its stock is pushed again only after its next change");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::jgoods::wire::JgoodsItemError;

    fn owed(sku: &str) -> OwedPush {
        OwedPush {
            sku: sku.into(),
            version: 1,
            stock: 3,
        }
    }

    #[test]
    fn per_item_errors_sort_the_skus_of_a_call() {
        let sent = [owed("A"), owed("B"), owed("C")];
        let result = JgoodsItemStockResult {
            updated: 1,
            errors: vec![
                JgoodsItemError {
                    item_code: "B".into(),
                    code: "ITEM_NOT_FOUND".into(),
                },
                JgoodsItemError {
                    item_code: "C".into(),
                    code: "LOCKED".into(),
                },
            ],
        };
        let out = sort_outcome(&sent, &result);
        assert_eq!(out.accepted, [&sent[0]]);
        assert_eq!(out.unknown, [&sent[1]]);
        assert_eq!(out.refused, [(&sent[2], "LOCKED".to_string())]);
    }
}
