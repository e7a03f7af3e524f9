//! One generation of workers built from one config: the channels' clients,
//! the dispatcher, the pollers, the sweep, the stock push and the lapse
//! watch. Built whole before any runs, so a config whose clients cannot be
//! built never stops the running generation.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{DISPATCH_CONCURRENCY, Shared, Workers, spawn_supervised};
use crate::alerts::AlertWorker;
use crate::call::RetryPolicy;
use crate::channels::credit::CreditProviders;
use crate::channels::credit::atobarai_com::client::{AtobaraiClient, AtobaraiClientSettings};
use crate::channels::credit::atobarai_com::provider::AtobaraiCredit;
use crate::channels::credit::kuroneko::client::{KuronekoClient, KuronekoClientSettings};
use crate::channels::credit::kuroneko::provider::KuronekoCredit;
use crate::channels::credit::poller::CreditPoller;
use crate::channels::jgoods::catalog_sync::CatalogSync;
use crate::channels::jgoods::client::{JgoodsClient, JgoodsClientSettings};
use crate::channels::jgoods::stock_push::JgoodsStock;
use crate::channels::jgoods::sweep::JgoodsSweep;
use crate::channels::komoju::client::{KomojuClient, KomojuClientSettings};
use crate::channels::komoju::lapse::LapseWatch;
use crate::channels::pacer::Pacer;
use crate::channels::rakuten_pay::client::{RakutenClient, RakutenClientSettings};
use crate::channels::rakuten_pay::inventory::InventoryClient;
use crate::channels::rakuten_pay::poller::{RakutenApi, RakutenPoller};
use crate::channels::rakuten_pay::recent::RecentOrders;
use crate::channels::rakuten_pay::stock_push::{LowStockWatch, RakutenStock};
use crate::channels::router::Channels;
use crate::channels::stock_push::StockPusher;
use crate::config::Config;
use crate::domain::Channel;
use crate::domain::credit::DeferredProvider;
use crate::engine::credit::CreditPolicy;
use crate::engine::erp::PaymentPolicy;
use crate::heartbeat::Heartbeat;
use crate::outbox::Dispatcher;
use crate::store::stock_push;

/// The workers of one config, built (clients and all) but not yet running.
pub(super) struct WorkerPlan {
    dispatcher: Dispatcher,
    sweep: Option<JgoodsSweep>,
    rakuten: Option<RakutenPoller>,
    credit: Vec<CreditPoller>,
    stock_push: Option<StockPusher<JgoodsStock>>,
    rakuten_stock_push: Option<StockPusher<RakutenStock>>,
    /// With KOMOJU enabled: authorizations watched for their lapse.
    komoju_lapse: Option<LapseWatch>,
    /// With `[alerts]` enabled: mail and webhook alerts.
    alerts: Option<AlertWorker>,
    /// With J-goods and `catalog_sync_interval` on: the product master sent to J-goods.
    catalog: Option<CatalogSync>,
}

impl WorkerPlan {
    pub(super) fn build(config: &Config, shared: &Shared) -> anyhow::Result<WorkerPlan> {
        let channels = channels(config)?;
        let retry = RetryPolicy {
            initial_delay: config.retry.initial_delay,
            max_delay: config.retry.max_delay,
            give_up_after: config.retry.give_up_after,
        };
        let (stock_push, sweep) = jgoods_workers(config, shared, &channels, retry);
        let rakuten = match (&channels.rakuten, config.enabled_rakuten_pay()) {
            (Some(api), Some(cfg)) => Some(RakutenPoller {
                store: shared.store.clone(),
                api: api.clone(),
                config: cfg.clone(),
                poke: Arc::new(Notify::new()),
                dispatcher_wake: shared.wake.clone(),
                heartbeat: Heartbeat::unwatched("Rakuten poller"),
                metrics: shared.metrics.clone(),
                problems: shared.problems.clone(),
            }),
            _ => None,
        };
        let rakuten_stock_push = rakuten_stock_push(config, shared, &channels, retry)?;
        let credit = credit_pollers(config, shared, &channels.credit);
        let komoju_lapse = config.enabled_komoju().map(|_| LapseWatch {
            store: shared.store.clone(),
        });
        let catalog = match (&channels.jgoods, config.enabled_jgoods()) {
            (Some(client), Some(j)) if !j.catalog_sync_interval.is_zero() => Some(CatalogSync {
                store: shared.store.clone(),
                client: client.clone(),
                interval: j.catalog_sync_interval,
                poke: shared.catalog_wake.clone(),
                problems: shared.problems.clone(),
            }),
            _ => None,
        };
        let alerts = AlertWorker::build(config, &shared.store)
            .map_err(|e| anyhow::anyhow!("cannot set up the alerts: {e}"))?;
        let dispatcher = Dispatcher {
            store: shared.store.clone(),
            runner: Arc::new(channels),
            retry,
            concurrency: DISPATCH_CONCURRENCY,
            wake: shared.wake.clone(),
            heartbeat: Heartbeat::unwatched("dispatcher"),
            metrics: shared.metrics.clone(),
            problems: shared.problems.clone(),
            installation_id: shared.installation_id.clone(),
        };
        Ok(WorkerPlan {
            dispatcher,
            sweep,
            rakuten,
            credit,
            stock_push,
            rakuten_stock_push,
            komoju_lapse,
            alerts,
            catalog,
        })
    }

    /// The channels this plan pushes stock to, in the store before any
    /// worker runs: a channel that joins owes every SKU once.
    pub(super) async fn prepare(&self, shared: &Shared) -> anyhow::Result<()> {
        let mut channels = Vec::new();
        if self.stock_push.is_some() {
            channels.push(Channel::Jgoods);
        }
        if self.rakuten_stock_push.is_some() {
            channels.push(Channel::Rakuten);
        }
        shared
            .store
            .write(move |tx| stock_push::set_channels(tx, &channels))
            .await?;
        Ok(())
    }

    /// Starts every worker of the plan under one stop token.
    pub(super) fn spawn(self, shared: &Shared) -> Workers {
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut pokes = vec![];
        let watch = |hb: &Heartbeat| shared.heartbeats.watch(hb.clone());
        watch(&self.dispatcher.heartbeat);
        let s = stop.clone();
        spawn_supervised(&tracker, &shared.failed, "dispatcher", async move {
            self.dispatcher.run(s).await;
            Ok(())
        });
        if let Some(sweep) = self.sweep {
            watch(&sweep.heartbeat);
            pokes.push(sweep.poke.clone());
            let s = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "J-goods sweep", async move {
                sweep.run(s).await;
                Ok(())
            });
        }
        if let Some(poller) = self.rakuten {
            watch(&poller.heartbeat);
            pokes.push(poller.poke.clone());
            let s = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "Rakuten poller", async move {
                poller.run(s).await;
                Ok(())
            });
        }
        let mut stock_wakes = vec![];
        if let Some(pusher) = self.stock_push {
            watch(&pusher.heartbeat);
            let (wake, s) = (Arc::new(Notify::new()), stop.clone());
            stock_wakes.push(wake.clone());
            spawn_supervised(&tracker, &shared.failed, "J-goods stock push", async move {
                pusher.run(wake, s).await;
                Ok(())
            });
        }
        if let Some(pusher) = self.rakuten_stock_push {
            watch(&pusher.heartbeat);
            let (wake, s) = (Arc::new(Notify::new()), stop.clone());
            stock_wakes.push(wake.clone());
            spawn_supervised(&tracker, &shared.failed, "Rakuten stock push", async move {
                pusher.run(wake, s).await;
                Ok(())
            });
        }
        for poller in self.credit {
            watch(&poller.heartbeat);
            pokes.push(poller.poke.clone());
            let s = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "credit poller", async move {
                poller.run(s).await;
                Ok(())
            });
        }
        if let Some(lapse) = self.komoju_lapse {
            let poke = Arc::new(Notify::new());
            pokes.push(poke.clone());
            let s = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "KOMOJU lapse watch", async move {
                lapse.run(poke, s).await;
                Ok(())
            });
        }
        if let Some(catalog) = self.catalog {
            pokes.push(catalog.poke.clone());
            let s = stop.clone();
            spawn_supervised(
                &tracker,
                &shared.failed,
                "J-goods catalog sync",
                async move {
                    catalog.run(s).await;
                    Ok(())
                },
            );
        }
        if let Some(alerts) = self.alerts {
            let s = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "alerts", async move {
                alerts.run(s).await;
                Ok(())
            });
        }
        tracker.close();
        Workers {
            stop,
            tracker,
            pokes,
            stock_wakes,
        }
    }
}

/// The J-goods client, when `[jgoods]` is enabled.
pub fn jgoods_client(config: &Config) -> anyhow::Result<Option<Arc<JgoodsClient>>> {
    let Some(j) = config.enabled_jgoods() else {
        return Ok(None);
    };
    let client = JgoodsClient::new(JgoodsClientSettings {
        order_api_base_url: j.order_api_base_url.clone(),
        item_api_base_url: j.item_api_base_url.clone(),
        category_api_base_url: j.category_api_base_url.clone(),
        token_url: j.token_url.clone(),
        client_id: j.client_id.clone(),
        client_secret: j.client_secret.value()?.clone(),
        token_auth: j.token_auth,
        timeout: config.daemon.http_timeout,
    })
    .map_err(|e| anyhow::anyhow!("cannot build the J-goods client: {e}"))?;
    Ok(Some(Arc::new(client)))
}

/// The clients of every channel the config enables.
fn channels(config: &Config) -> anyhow::Result<Channels> {
    let timeout = config.daemon.http_timeout;
    let jgoods = jgoods_client(config)?;
    let rakuten = match config.enabled_rakuten_pay() {
        Some(r) => Some(Arc::new(RakutenApi {
            client: RakutenClient::new(RakutenClientSettings::from_config(r, timeout)?)
                .map_err(|e| anyhow::anyhow!("cannot build the Rakuten client: {e}"))?,
            pacer: Pacer::new(r.request_interval),
        })),
        None => None,
    };
    let komoju = match config.enabled_komoju() {
        Some(k) => Some(Arc::new(
            KomojuClient::new(KomojuClientSettings::from_config(k, timeout)?)
                .map_err(|e| anyhow::anyhow!("cannot build the KOMOJU client: {e}"))?,
        )),
        None => None,
    };
    Ok(Channels {
        jgoods,
        rakuten,
        komoju,
        credit: credit_providers(config)?,
        credit_policy: credit_policy(config),
    })
}

/// The J-goods stock push (unless its interval is 0) and sweep.
fn jgoods_workers(
    config: &Config,
    shared: &Shared,
    channels: &Channels,
    retry: RetryPolicy,
) -> (Option<StockPusher<JgoodsStock>>, Option<JgoodsSweep>) {
    let (Some(client), Some(j)) = (&channels.jgoods, config.enabled_jgoods()) else {
        return (None, None);
    };
    let pusher = (!j.stock_push_interval.is_zero()).then(|| {
        let mut pusher = StockPusher::new(
            shared.store.clone(),
            JgoodsStock {
                client: client.clone(),
            },
            j.stock_push_interval,
            retry,
            shared.metrics.clone(),
        );
        pusher.problems = shared.problems.clone();
        pusher
    });
    let sweep = JgoodsSweep {
        store: shared.store.clone(),
        client: client.clone(),
        interval: j.sweep_interval,
        poke: Arc::new(Notify::new()),
        dispatcher_wake: shared.wake.clone(),
        heartbeat: Heartbeat::unwatched("J-goods sweep"),
        metrics: shared.metrics.clone(),
        problems: shared.problems.clone(),
    };
    (pusher, Some(sweep))
}

/// The Rakuten stock push (unless its interval is 0), with the import of
/// recent orders before each round.
fn rakuten_stock_push(
    config: &Config,
    shared: &Shared,
    channels: &Channels,
    retry: RetryPolicy,
) -> anyhow::Result<Option<StockPusher<RakutenStock>>> {
    let (Some(api), Some(r)) = (&channels.rakuten, config.enabled_rakuten_pay()) else {
        return Ok(None);
    };
    if r.stock_push_interval.is_zero() {
        return Ok(None);
    }
    let client = InventoryClient::from_config(r, config.daemon.http_timeout)
        .map_err(|e| anyhow::anyhow!("cannot build the Rakuten inventory client: {e}"))?;
    let mut channel = RakutenStock::new(
        shared.store.clone(),
        client,
        shared.metrics.clone(),
        r.sku_preference.clone(),
        r.stock_buffer,
    );
    channel.recent = Some(RecentOrders {
        store: shared.store.clone(),
        api: api.clone(),
        metrics: shared.metrics.clone(),
        sku_preference: r.sku_preference.clone(),
    });
    channel.watch = (!r.low_stock_poll_interval.is_zero()).then_some(LowStockWatch {
        every: r.low_stock_poll_interval,
        level: r.low_stock_level,
    });
    let mut pusher = StockPusher::new(
        shared.store.clone(),
        channel,
        r.stock_push_interval,
        retry,
        shared.metrics.clone(),
    );
    pusher.problems = shared.problems.clone();
    Ok(Some(pusher))
}

/// One poller per deferred-payment provider enabled.
fn credit_pollers(config: &Config, shared: &Shared, credit: &CreditProviders) -> Vec<CreditPoller> {
    credit
        .all()
        .map(|provider| CreditPoller {
            store: shared.store.clone(),
            interval: config
                .credit_poll_interval(provider.provider())
                .unwrap_or(Duration::from_secs(300)),
            heartbeat: Heartbeat::unwatched(match provider.provider() {
                DeferredProvider::Kuroneko => "Kuroneko Atobarai poller",
                DeferredProvider::AtobaraiCom => "Atobarai.com poller",
            }),
            provider: provider.clone(),
            policy: credit_policy(config),
            poke: Arc::new(Notify::new()),
            dispatcher_wake: shared.wake.clone(),
            problems: shared.problems.clone(),
        })
        .collect()
}

/// What the merchant configured about refused credit.
pub fn credit_policy(config: &Config) -> CreditPolicy {
    CreditPolicy {
        release_on_credit_ng: config.inventory.release_on_credit_ng,
    }
}

/// The deferred-payment providers the config enables.
pub fn credit_providers(config: &Config) -> anyhow::Result<CreditProviders> {
    let mut providers = CreditProviders::default();
    if let Some(k) = config.enabled_kuroneko() {
        let client = KuronekoClient::new(KuronekoClientSettings::from_config(
            k,
            config.daemon.http_timeout,
        )?)
        .map_err(|e| anyhow::anyhow!("cannot build the Kuroneko Atobarai client: {e}"))?;
        providers.add(Arc::new(KuronekoCredit {
            client,
            settle_delay: k.settle_delay,
        }));
    }
    if let Some(a) = config.enabled_atobarai_com() {
        let client = AtobaraiClient::new(AtobaraiClientSettings::from_config(
            a,
            config.daemon.http_timeout,
        ))
        .map_err(|e| anyhow::anyhow!("cannot build the Atobarai.com client: {e}"))?;
        providers.add(Arc::new(AtobaraiCredit::new(
            client,
            a.fee_mode,
            a.fee_bands.clone(),
        )));
    }
    Ok(providers)
}

/// How payments are handled around shipment, from the config.
pub fn payment_policy(config: &Config) -> PaymentPolicy {
    PaymentPolicy {
        capture_on_ship: config.enabled_komoju().is_some_and(|k| k.capture_on_ship),
    }
}
