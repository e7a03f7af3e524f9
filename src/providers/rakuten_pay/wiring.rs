//! How Rakuten Pay starts under its `[rakuten_pay]` section: the order API
//! client the router reports shipments with, the order poller (with the
//! licence watch), and the stock push to RMS with its import of recent
//! orders and its low-stock watch.

use std::sync::Arc;

use tokio::sync::Notify;

use super::client::{RakutenClient, RakutenClientSettings};
use super::inventory::InventoryClient;
use super::poller::{RakutenApi, RakutenPoller};
use super::recent::RecentOrders;
use super::stock_push::{LowStockWatch, RakutenStock};
use crate::domain::Provider;
use crate::heartbeat::Heartbeat;
use crate::providers::pacer::Pacer;
use crate::providers::rakuten_pay::config::RakutenPayConfig;
use crate::providers::router::{StartError, Started};
use crate::providers::stock_push::StockPusher;
use crate::worker::WorkerContext;

/// Starts Rakuten Pay: its client in the router, its workers beside it.
pub fn start(
    cfg: &RakutenPayConfig,
    ctx: &WorkerContext,
    started: &mut Started,
) -> Result<(), StartError> {
    let failed = |e: &dyn std::fmt::Display| StartError::new(Provider::RakutenPay, e);
    let settings = RakutenClientSettings::from_config(cfg, ctx.http).map_err(|e| failed(&e))?;
    let api = Arc::new(RakutenApi {
        client: RakutenClient::new(settings).map_err(|e| failed(&e))?,
        pacer: Pacer::new(cfg.request_interval),
    });
    started.router.rakuten = Some(api.clone());
    started.run(RakutenPoller {
        ctx: ctx.clone(),
        api: api.clone(),
        config: cfg.clone(),
        poke: Arc::new(Notify::new()),
        heartbeat: Heartbeat::unwatched("Rakuten poller"),
    });
    if cfg.stock_push_interval.is_zero() {
        return Ok(());
    }
    let inventory = InventoryClient::from_config(cfg, ctx.http).map_err(|e| failed(&e))?;
    let mut channel = RakutenStock::new(
        ctx.store.clone(),
        inventory,
        ctx.metrics.clone(),
        cfg.sku_preference.clone(),
        cfg.stock_buffer,
    );
    channel.problems = ctx.problems.clone();
    channel.refused_sync_retry = cfg.stock_push_interval;
    channel.recent = Some(RecentOrders {
        store: ctx.store.clone(),
        api,
        metrics: ctx.metrics.clone(),
        sku_preference: cfg.sku_preference.clone(),
    });
    channel.watch = (!cfg.low_stock_poll_interval.is_zero()).then_some(LowStockWatch {
        every: cfg.low_stock_poll_interval,
        level: cfg.low_stock_level,
        daily_ceiling: cfg.low_stock_daily_searches,
    });
    started.run(StockPusher::new(
        ctx,
        channel,
        cfg.stock_push_interval,
        ctx.retry,
    ));
    Ok(())
}
