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
//!
//! One refused entry fails a whole `bulk-upsert` (`400` naming it by
//! `propertyPath`): the entry's pair is set aside with its code and fix
//! ([`super::refusals`]) and the rest of the call is sent again at once
//! without it; the pair is not sent again until its item changes in RMS (the
//! SKU map sync sees its `updated` move). Pre-order and subscription items are
//! never in the map.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::inventory::wire::{Mode, PairRef, UpsertEntry};
use super::inventory::{self, EntryRefusal, Function, InventoryClient, Upserted};
use super::recent::RecentOrders;
use super::{refusals, skus};
use crate::call::CallError;
use crate::domain::Provider;
use crate::domain::{Channel, time};
use crate::metrics::Metrics;
use crate::problems::ProviderProblems;
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
/// Entries set aside in one call's worth at most; beyond, the rest waits
/// for a later round (each resend is another call at one a second).
const MAX_REFUSALS_PER_CALL: usize = 8;

/// `[rakuten_pay] low_stock_poll_interval`, `low_stock_level` and
/// `low_stock_daily_searches`.
#[derive(Clone, Copy, Debug)]
pub struct LowStockWatch {
    pub every: Duration,
    pub level: u32,
    /// `searchOrder` calls a JST day at most.
    pub daily_ceiling: u32,
}

/// The watch's searches of the current JST day.
#[derive(Debug, Default)]
struct DailyCount {
    day: Option<chrono::NaiveDate>,
    searches: u32,
    /// The ceiling was met today (logged once).
    told: bool,
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
    /// Where a refused `items.search` is shown (the daemon's; the command
    /// line's shows nothing).
    pub problems: ProviderProblems,
    /// After `items.search` is refused for the key (a function not ticked in
    /// RMS), the next try waits only this long (the push interval), so the
    /// problem goes within it once the function is ticked.
    pub refused_sync_retry: Duration,
    upserts: Pacer,
    reads: Pacer,
    searches: Pacer,
    synced: AtomicBool,
    /// The last import of recent orders (before a round or by the watch).
    imported_at: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// The watch's last import failed (logged once until it works again).
    watch_failing: AtomicBool,
    /// The watch's searches today, against its daily ceiling.
    watch_today: std::sync::Mutex<DailyCount>,
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
            problems: ProviderProblems::default(),
            refused_sync_retry: SYNC_RETRY,
            upserts: Pacer::new(inventory::UPSERT_INTERVAL),
            reads: Pacer::new(inventory::GET_INTERVAL),
            searches: Pacer::new(Duration::from_secs(1)),
            synced: AtomicBool::new(false),
            imported_at: std::sync::Mutex::new(None),
            watch_failing: AtomicBool::new(false),
            watch_today: std::sync::Mutex::new(DailyCount::default()),
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
        if !self.watch_may_search(watch.daily_ceiling) {
            self.metrics.rakuten_low_stock_search("over_ceiling");
            return Some(watch.every);
        }
        self.metrics.rakuten_low_stock_search("made");
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

    /// Counts one search of the watch against today's (JST) ceiling; `false`
    /// when the ceiling is met (the order poll and the pre-push import still
    /// run; the watch resumes the next day).
    fn watch_may_search(&self, ceiling: u32) -> bool {
        let today = time::now().with_timezone(&time::jst()).date_naive();
        let Ok(mut count) = self.watch_today.lock() else {
            return true;
        };
        if count.day != Some(today) {
            *count = DailyCount {
                day: Some(today),
                ..DailyCount::default()
            };
        }
        if count.searches >= ceiling {
            if !count.told {
                count.told = true;
                tracing::warn!(
                    ceiling,
                    "the Rakuten low-stock watch reached its daily ceiling of searchOrder calls (low_stock_daily_searches); until midnight JST, Rakuten sales are seen at the order poll and before each push"
                );
            }
            return false;
        }
        count.searches += 1;
        true
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

    const PROBLEM_PART: Option<&'static str> = Some(Function::Inventories.part());

    async fn tick(&self) -> Option<Duration> {
        if self.sync_due().await {
            let synced = self.sync_skus().await;
            let part = Function::ItemsSearch.part();
            self.problems
                .observe_part(Provider::RakutenPay, part, synced.as_ref().map(|_| ()))
                .await;
            if let Err(e) = synced {
                let wait = match e {
                    CallError::Configuration { .. } => self.refused_sync_retry,
                    _ => SYNC_RETRY,
                };
                tracing::warn!(error = %e, retry_in = ?wait, "Rakuten items.search failed; pushing with the SKU map as it was");
                if let Ok(mut at) = self.retry_sync_at.lock() {
                    *at = Some(tokio::time::Instant::now() + wait);
                }
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
        // A SKU may sell through several pairs: more than one call then.
        // Every call is ABSOLUTE, so a retry of the whole batch repeats values.
        let mut refused: HashSet<SkuPair> = HashSet::new();
        let mut unsent: HashSet<SkuPair> = HashSet::new();
        for chunk in pairs.chunks(inventory::MAX_UPSERT) {
            let mut left: Vec<&MappedPair> = chunk.iter().collect();
            let mut set_aside = 0;
            while !left.is_empty() {
                if set_aside == MAX_REFUSALS_PER_CALL {
                    unsent.extend(left.iter().map(|p| p.pair.clone()));
                    break;
                }
                let entries: Vec<UpsertEntry> = left
                    .iter()
                    .map(|p| UpsertEntry {
                        manage_number: p.pair.manage_number.clone(),
                        variant_id: p.pair.variant_id.clone(),
                        mode: Mode::Absolute,
                        quantity: self
                            .quantity(stock.get(p.pair.sku.as_str()).copied().unwrap_or(0)),
                    })
                    .collect();
                self.upserts.wait().await;
                let answer = self
                    .metrics
                    .timed(Provider::RakutenPay, self.client.bulk_upsert(&entries))
                    .await?;
                match answer {
                    Upserted::Accepted => break,
                    Upserted::Refused(refusal) => {
                        // Nothing of the call was applied: the rest goes again.
                        let pair = left.remove(refusal.index).pair.clone();
                        self.set_aside(&pair, &refusal).await?;
                        refused.insert(pair);
                        set_aside += 1;
                    }
                }
            }
        }
        let sent: Vec<MappedPair> = pairs
            .iter()
            .filter(|p| !refused.contains(&p.pair) && !unsent.contains(&p.pair))
            .cloned()
            .collect();
        let missing = self.read_back(&sent).await;
        // Per SKU: pairs, pairs Rakuten does not hold, refused, not sent.
        let mut held: HashMap<&str, [usize; 4]> = HashMap::new();
        for p in &pairs {
            let counts = held.entry(p.pair.sku.as_str()).or_default();
            counts[0] += 1;
            counts[1] += usize::from(missing.contains(&p.pair));
            counts[2] += usize::from(refused.contains(&p.pair));
            counts[3] += usize::from(unsent.contains(&p.pair));
        }
        Ok(batch
            .iter()
            .map(|push| match held.get(push.sku.as_str()) {
                None => Verdict::NotListed,
                Some([_, _, _, unsent]) if *unsent > 0 => {
                    Verdict::Refused("too many refused entries in one call".to_string())
                }
                Some([all, _, refused, _]) if all == refused => Verdict::SetAside,
                Some([all, gone, refused, _]) if *all == gone + refused => Verdict::Unknown,
                Some(_) => Verdict::Accepted,
            })
            .collect())
    }
}

impl RakutenStock {
    /// Keeps a refused pair aside with its code and fix (logged once).
    async fn set_aside(&self, pair: &SkuPair, refusal: &EntryRefusal) -> Result<(), CallError> {
        let fix = refusals::fix(&refusal.code);
        let now = time::rfc3339(time::now());
        let newly = self
            .store
            .write({
                let (pair, code, fix) = (pair.clone(), refusal.code.clone(), fix.clone());
                move |tx| rakuten_skus::refused(tx, &pair, &code, &fix, &now)
            })
            .await?;
        if newly {
            tracing::warn!(sku = %pair.sku, manage_number = %pair.manage_number,
                variant_id = %pair.variant_id, code = %refusal.code, path = %refusal.path,
                "Rakuten refused a stock entry; the rest of its call is sent without it, and it is not sent again until its item changes in RMS");
        }
        Ok(())
    }
}
