//! How Yahoo!ショッピング starts under its `[yahoo_shopping]` section: its
//! client in the router (the dispatcher marks orders seen and reports
//! shipments with it), the order poller and the stock push beside it.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::client::{YahooClient, YahooClientSettings};
use super::config::YahooShoppingConfig;
use super::poller::YahooPoller;
use super::stock_push::YahooStock;
use crate::domain::Provider;
use crate::heartbeat::Heartbeat;
use crate::providers::router::{StartError, Started};
use crate::providers::stock_push::StockPusher;
use crate::worker::WorkerContext;

/// The client with what the calls need of the section.
#[derive(Debug)]
pub struct YahooApi {
    /// The client, shared by the poller and the dispatcher.
    pub client: YahooClient,
    /// `complete_orders`: set 完了 after the shipment report.
    pub complete_orders: bool,
}

/// Starts Yahoo!ショッピング: its client in the router, its poller beside it.
pub fn start(
    cfg: &YahooShoppingConfig,
    ctx: &WorkerContext,
    started: &mut Started,
) -> Result<(), StartError> {
    let failed = |e: &dyn std::fmt::Display| StartError::new(Provider::YahooShopping, e);
    let settings = YahooClientSettings::from_config(cfg, ctx.http).map_err(|e| failed(&e))?;
    let api = Arc::new(YahooApi {
        client: YahooClient::new(settings, ctx.problems.clone()).map_err(|e| failed(&e))?,
        complete_orders: cfg.complete_orders,
    });
    started.router.yahoo = Some(api.clone());
    started.run(YahooPoller {
        ctx: ctx.clone(),
        api: api.clone(),
        config: cfg.clone(),
        poke: Arc::new(Notify::new()),
        heartbeat: Heartbeat::unwatched("Yahoo! poller"),
        swept_at: Arc::new(Mutex::new(None)),
    });
    if !cfg.stock_push_interval.is_zero() {
        let channel = YahooStock {
            api,
            store: ctx.store.clone(),
        };
        started.run(StockPusher::new(
            ctx,
            channel,
            cfg.stock_push_interval,
            ctx.retry,
        ));
    }
    Ok(())
}
