//! How J-goods starts under its `[jgoods]` section: the client the router
//! makes order calls with, and J-goods' workers (the stock push, the sweep
//! for orders no webhook brought, the product master's sync).

use std::sync::Arc;

use tokio::sync::Notify;

use super::catalog_sync::CatalogSync;
use super::client::{JgoodsClient, JgoodsClientSettings};
use super::stock_push::JgoodsStock;
use super::sweep::JgoodsSweep;
use crate::domain::Provider;
use crate::heartbeat::Heartbeat;
use crate::providers::jgoods::config::JgoodsConfig;
use crate::providers::router::{StartError, Started};
use crate::providers::stock_push::StockPusher;
use crate::worker::WorkerContext;

/// The J-goods client of `cfg`.
pub fn client(
    cfg: &JgoodsConfig,
    http: crate::call::HttpLimits,
) -> Result<Arc<JgoodsClient>, StartError> {
    let failed = |e: &dyn std::fmt::Display| StartError::new(Provider::Jgoods, e);
    let client = JgoodsClient::new(JgoodsClientSettings {
        order_api_base_url: cfg.order_api_base_url.clone(),
        item_api_base_url: cfg.item_api_base_url.clone(),
        category_api_base_url: cfg.category_api_base_url.clone(),
        token_url: cfg.token_url.clone(),
        client_id: cfg.client_id.clone(),
        client_secret: cfg.client_secret.value().map_err(|e| failed(&e))?.clone(),
        token_auth: cfg.token_auth,
        http,
    })
    .map_err(|e| failed(&e))?;
    Ok(Arc::new(client))
}

/// Starts J-goods: its client in the router, its workers beside it.
pub fn start(
    cfg: &JgoodsConfig,
    ctx: &WorkerContext,
    started: &mut Started,
) -> Result<(), StartError> {
    let client = client(cfg, ctx.http)?;
    started.router.jgoods = Some(client.clone());
    if !cfg.stock_push_interval.is_zero() {
        let stock = JgoodsStock {
            client: client.clone(),
        };
        started.run(StockPusher::new(
            ctx,
            stock,
            cfg.stock_push_interval,
            ctx.retry,
        ));
    }
    started.run(JgoodsSweep {
        ctx: ctx.clone(),
        client: client.clone(),
        interval: cfg.sweep_interval,
        poke: Arc::new(Notify::new()),
        heartbeat: Heartbeat::unwatched("J-goods sweep"),
    });
    if !cfg.catalog_sync_interval.is_zero() {
        started.run(CatalogSync {
            ctx: ctx.clone(),
            client,
            interval: cfg.catalog_sync_interval,
            poke: ctx.catalog_wake.clone(),
        });
    }
    Ok(())
}
