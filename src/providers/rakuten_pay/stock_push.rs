//! Rakuten's part of the stock push ([`crate::providers::stock_push`]): each
//! owed SKU goes to every (`manageNumber`, `variantId`) pair of the SKU map as
//! an `ABSOLUTE` quantity (`available - stock_buffer`, 0 to 99999), at most
//! 400 entries a `bulk-upsert` and one upsert a second. Before a round, the
//! orders placed at Rakuten since the last poll are imported, so the values
//! read count them; while a SKU sold at Rakuten is down to its last units the
//! same import runs every few seconds ([`LowStockWatch`]), so a Rakuten sale
//! of a last unit is known before another channel sells it again; at
//! start-up and then daily the SKU map is learnt again.
//!
//! A 204 does not prove Rakuten holds a pair: after a pair's first accepted
//! push it is read back with `bulk-get`; a pair Rakuten does not return is
//! reported once, and a SKU none of whose pairs Rakuten holds is an unknown
//! item like J-goods' `ITEM_NOT_FOUND`. A SKU without a pair is not sold at
//! Rakuten: nothing is sent for it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::inventory::wire::{Mode, PairRef, UpsertEntry};
use super::inventory::{self, InventoryClient};
use super::recent::RecentOrders;
use super::skus;
use crate::call::CallError;
use crate::domain::Provider;
use crate::domain::{Channel, time};
use crate::metrics::Metrics;
use crate::providers::pacer::Pacer;
use crate::providers::rakuten_pay::config::SkuSource;
use crate::providers::stock_push::{StockChannel, Verdict};
use crate::store::rakuten_skus::{self, MappedPair, SkuPair};
use crate::store::stock_push::OwedPush;
use crate::store::{Store, kv};

/// The SKU map is learnt again after this long.
pub const SKU_SYNC_EVERY: Duration = Duration::from_secs(24 * 3600);
/// After a failed sync, the next try waits this long.
const SYNC_RETRY: Duration = Duration::from_secs(15 * 60);

/// `[rakuten_pay] low_stock_poll_interval` and `low_stock_level`.
#[derive(Clone, Copy, Debug)]
pub struct LowStockWatch {
    pub every: Duration,
    pub level: u32,
}

/// Rakuten as a stock channel.
pub struct RakutenStock {
    pub store: Store,
    pub client: InventoryClient,
    pub metrics: Arc<Metrics>,
    /// The import before each round; `None` pushes without it (tests of the
    /// push alone).
    pub recent: Option<RecentOrders>,
    /// Imports recent orders every few seconds while stock is low (needs `recent`).
    pub watch: Option<LowStockWatch>,
    pub sku_preference: Vec<SkuSource>,
    /// `[rakuten_pay] stock_buffer`.
    pub buffer: u32,
    upserts: Pacer,
    reads: Pacer,
    searches: Pacer,
    synced: AtomicBool,
    /// The last import of recent orders (before a round or by the watch).
    imported_at: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// The watch's last import failed (logged once until it works again).
    watch_failing: AtomicBool,
    /// After a failed sync, not again before this.
    retry_sync_at: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl RakutenStock {
    pub fn new(
        store: Store,
        client: InventoryClient,
        metrics: Arc<Metrics>,
        sku_preference: Vec<SkuSource>,
        buffer: u32,
    ) -> RakutenStock {
        RakutenStock {
            store,
            client,
            metrics,
            recent: None,
            watch: None,
            sku_preference,
            buffer,
            upserts: Pacer::new(inventory::UPSERT_INTERVAL),
            reads: Pacer::new(inventory::GET_INTERVAL),
            searches: Pacer::new(Duration::from_secs(1)),
            synced: AtomicBool::new(false),
            imported_at: std::sync::Mutex::new(None),
            watch_failing: AtomicBool::new(false),
            retry_sync_at: std::sync::Mutex::new(None),
        }
    }

    /// Learns the SKU map now (`ordersync rakuten sync-skus` does the same).
    pub async fn sync_skus(&self) -> Result<skus::SyncReport, CallError> {
        let report = self
            .metrics
            .timed(
                Provider::RakutenPay,
                skus::sync(
                    &self.store,
                    &self.client,
                    &self.searches,
                    &self.sku_preference,
                ),
            )
            .await?;
        self.synced.store(true, Ordering::Relaxed);
        tracing::info!(
            items = report.items,
            pairs = report.pairs,
            gained = report.gained.len(),
            without_sku = report.without_sku,
            "Rakuten SKU map learnt from items.search"
        );
        Ok(report)
    }

    /// Whether the map is due: never learnt by this process, or a day old,
    /// and not within the pause after a failed sync.
    async fn sync_due(&self) -> bool {
        let paused = self
            .retry_sync_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| tokio::time::Instant::now() < at);
        if paused {
            return false;
        }
        if !self.synced.load(Ordering::Relaxed) {
            return true;
        }
        let at = self
            .store
            .read(|c| kv::get(c, skus::SYNCED_AT_KEY))
            .await
            .ok()
            .flatten()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok());
        at.is_none_or(|at| (time::now() - at).to_std().unwrap_or_default() >= SKU_SYNC_EVERY)
    }

    /// Imports recent orders, remembering when.
    async fn import_recent(&self, recent: &RecentOrders) -> Result<usize, CallError> {
        if let Ok(mut at) = self.imported_at.lock() {
            *at = Some(tokio::time::Instant::now());
        }
        recent.import().await
    }

    /// The watch's turn: when its interval has passed since the last import
    /// and a SKU sold at Rakuten is low, imports recent orders. Returns when
    /// it wants to look again.
    async fn watch_low_stock(&self) -> Option<Duration> {
        let (Some(recent), Some(watch)) = (&self.recent, self.watch) else {
            return None;
        };
        let since = self
            .imported_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .map(|at| at.elapsed());
        if let Some(since) = since.filter(|since| *since < watch.every) {
            return Some(watch.every - since);
        }
        let buffer = self.buffer;
        let low = self
            .store
            .read(move |c| rakuten_skus::any_low(c, buffer, watch.level))
            .await
            .unwrap_or(false);
        if !low {
            return Some(watch.every);
        }
        match self.import_recent(recent).await {
            Ok(imported) => {
                self.watch_failing.store(false, Ordering::Relaxed);
                if imported > 0 {
                    tracing::info!(imported, "Rakuten orders imported while stock is low");
                }
            }
            Err(e) => {
                if !self.watch_failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Rakuten search for recent orders (low stock) failed; the order poll still runs");
                }
            }
        }
        Some(watch.every)
    }

    /// The quantity Rakuten is told for an availability.
    fn quantity(&self, available: u32) -> u32 {
        available
            .saturating_sub(self.buffer)
            .min(inventory::MAX_QUANTITY)
    }

    /// Reads back the pairs never found before; returns those Rakuten does
    /// not hold. A failed read is logged and tried after the next push.
    async fn read_back(&self, pairs: &[MappedPair]) -> HashSet<SkuPair> {
        let fresh: Vec<&SkuPair> = pairs
            .iter()
            .filter(|p| !p.verified)
            .map(|p| &p.pair)
            .collect();
        let mut missing = HashSet::new();
        for chunk in fresh.chunks(inventory::MAX_GET) {
            let asked: Vec<PairRef> = chunk
                .iter()
                .map(|p| PairRef {
                    manage_number: p.manage_number.clone(),
                    variant_id: p.variant_id.clone(),
                })
                .collect();
            self.reads.wait().await;
            let held = match self
                .metrics
                .timed(Provider::RakutenPay, self.client.bulk_get(&asked))
                .await
            {
                Ok(held) => held,
                Err(e) => {
                    tracing::warn!(error = %e, "Rakuten bulk-get after a push failed; read again after the next push");
                    continue;
                }
            };
            let found: HashSet<(String, String)> = held
                .into_iter()
                .map(|h| (h.manage_number.to_ascii_lowercase(), h.variant_id))
                .collect();
            let (hit, miss): (Vec<SkuPair>, Vec<SkuPair>) = chunk
                .iter()
                .map(|p| (*p).clone())
                .partition(|p| found.contains(&(p.manage_number.clone(), p.variant_id.clone())));
            let now = time::rfc3339(time::now());
            let newly = self
                .store
                .write({
                    let miss = miss.clone();
                    move |tx| rakuten_skus::checked(tx, &hit, &miss, &now)
                })
                .await;
            for p in newly.unwrap_or_default() {
                tracing::warn!(sku = %p.sku, manage_number = %p.manage_number, variant_id = %p.variant_id,
                    "Rakuten accepted stock for a pair it does not hold (204, then absent from bulk-get); check the item in RMS");
            }
            missing.extend(miss);
        }
        missing
    }
}

impl StockChannel for RakutenStock {
    const CHANNEL: Channel = Channel::Rakuten;
    const PROVIDER: Provider = Provider::RakutenPay;
    const BATCH: usize = inventory::MAX_UPSERT;
    const WORKER: &'static str = "Rakuten stock push";

    async fn tick(&self) -> Option<Duration> {
        if self.sync_due().await
            && let Err(e) = self.sync_skus().await
        {
            tracing::warn!(error = %e, "Rakuten items.search failed; pushing with the SKU map as it was; tried again in 15 minutes");
            if let Ok(mut at) = self.retry_sync_at.lock() {
                *at = Some(tokio::time::Instant::now() + SYNC_RETRY);
            }
        }
        self.watch_low_stock().await
    }

    async fn before_round(&self, due: &[OwedPush]) -> Result<bool, CallError> {
        let Some(recent) = &self.recent else {
            return Ok(false);
        };
        // Only a push to Rakuten can undo a Rakuten order not seen yet.
        let skus: Vec<String> = due.iter().map(|p| p.sku.clone()).collect();
        let listed = self
            .store
            .read(move |c| rakuten_skus::any_listed(c, &skus))
            .await?;
        if !listed {
            return Ok(false);
        }
        let imported = self.import_recent(recent).await?;
        if imported > 0 {
            tracing::info!(imported, "Rakuten orders imported before a stock push");
        }
        Ok(imported > 0)
    }

    async fn send(&self, batch: &[OwedPush]) -> Result<Vec<Verdict>, CallError> {
        let skus: Vec<String> = batch.iter().map(|p| p.sku.clone()).collect();
        let pairs = self
            .store
            .read(move |c| rakuten_skus::pairs_of(c, &skus))
            .await?;
        let stock: HashMap<&str, u32> = batch.iter().map(|p| (p.sku.as_str(), p.stock)).collect();
        let entries: Vec<UpsertEntry> = pairs
            .iter()
            .map(|p| UpsertEntry {
                manage_number: p.pair.manage_number.clone(),
                variant_id: p.pair.variant_id.clone(),
                mode: Mode::Absolute,
                quantity: self.quantity(stock.get(p.pair.sku.as_str()).copied().unwrap_or(0)),
            })
            .collect();
        // A SKU may sell through several pairs: more than one call then.
        // Every call is ABSOLUTE, so a retry of the whole batch repeats values.
        for chunk in entries.chunks(inventory::MAX_UPSERT) {
            self.upserts.wait().await;
            self.metrics
                .timed(Provider::RakutenPay, self.client.bulk_upsert(chunk))
                .await?;
        }
        let missing = self.read_back(&pairs).await;
        // Per SKU: (pairs, pairs Rakuten does not hold).
        let mut held: HashMap<&str, (usize, usize)> = HashMap::new();
        for p in &pairs {
            let counts = held.entry(p.pair.sku.as_str()).or_default();
            counts.0 += 1;
            counts.1 += usize::from(missing.contains(&p.pair));
        }
        Ok(batch
            .iter()
            .map(|push| match held.get(push.sku.as_str()) {
                None => Verdict::NotListed,
                Some((all, gone)) if all == gone => Verdict::Unknown,
                Some(_) => Verdict::Accepted,
            })
            .collect())
    }
}
