//! One generation of workers built from one config: the channels' clients
//! and workers (each enabled provider starts its own, see
//! `start_provider`), the dispatcher and the alerts. Built whole before any
//! runs, so a config whose clients cannot be built never stops the running
//! generation.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{DISPATCH_CONCURRENCY, Shared, Workers, spawn_supervised};
use crate::alerts::AlertWorker;
use crate::call::RetryPolicy;
use crate::config_file::Config;
use crate::domain::{Channel, Provider};
use crate::engine::credit::CreditPolicy;
use crate::engine::erp::PaymentPolicy;
use crate::heartbeat::Heartbeat;
use crate::outbox::Dispatcher;
use crate::providers::router::{StartError, Started};
use crate::providers::{credit, jgoods, komoju, rakuten_pay};
use crate::store::stock_push;
use crate::worker::{Wake, Worker, WorkerContext};

/// The workers of one config, built (clients and all) but not yet running.
pub(super) struct WorkerPlan {
    workers: Vec<Box<dyn Worker>>,
}

impl WorkerPlan {
    pub(super) fn build(config: &Config, shared: &Shared) -> anyhow::Result<WorkerPlan> {
        let ctx = context(config, shared);
        let mut started = Started::new(ctx.credit_policy);
        for provider in Provider::ALL {
            start_provider(provider, config, &ctx, &mut started)?;
        }
        let alerts = AlertWorker::build(config, &shared.store)
            .map_err(|e| anyhow::anyhow!("cannot set up the alerts: {e}"))?;
        let mut workers = started.workers;
        workers.push(Box::new(Dispatcher {
            store: shared.store.clone(),
            runner: Arc::new(started.router),
            retry: ctx.retry,
            concurrency: DISPATCH_CONCURRENCY,
            wake: shared.wake.clone(),
            heartbeat: Heartbeat::unwatched("dispatcher"),
            metrics: shared.metrics.clone(),
            problems: shared.problems.clone(),
            installation_id: shared.installation_id.clone(),
        }));
        workers.extend(alerts.map(|a| Box::new(a) as Box<dyn Worker>));
        Ok(WorkerPlan { workers })
    }

    /// The channels this plan pushes stock to, in the store before any
    /// worker runs: a channel that joins owes every SKU once.
    pub(super) async fn prepare(&self, shared: &Shared) -> anyhow::Result<()> {
        let channels: Vec<Channel> = self
            .workers
            .iter()
            .filter_map(|w| match w.wake() {
                Wake::StockPush(channel, _) => Some(channel),
                Wake::Never | Wake::Poll(_) => None,
            })
            .collect();
        shared
            .store
            .write(move |tx| stock_push::set_channels(tx, &channels))
            .await?;
        Ok(())
    }

    /// Starts every worker of the plan under one stop token: supervised,
    /// watched by the watchdog when it has a heartbeat, woken through its
    /// [`Wake`].
    pub(super) fn spawn(self, shared: &Shared) -> Workers {
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (mut pokes, mut stock_wakes) = (vec![], vec![]);
        for worker in self.workers {
            if let Some(heartbeat) = worker.heartbeat() {
                shared.heartbeats.watch(heartbeat);
            }
            match worker.wake() {
                Wake::Poll(poke) => pokes.push(poke),
                Wake::StockPush(_, wake) => stock_wakes.push(wake),
                Wake::Never => {}
            }
            let (name, stop) = (worker.name(), stop.clone());
            spawn_supervised(&tracker, &shared.failed, name, async move {
                worker.run(stop).await;
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

/// What every worker of the generation is built from.
fn context(config: &Config, shared: &Shared) -> WorkerContext {
    WorkerContext {
        store: shared.store.clone(),
        dispatcher_wake: shared.wake.clone(),
        catalog_wake: shared.catalog_wake.clone(),
        metrics: shared.metrics.clone(),
        problems: shared.problems.clone(),
        http: crate::call::HttpLimits::of(&config.daemon),
        retry: RetryPolicy {
            initial_delay: config.retry.initial_delay,
            max_delay: config.retry.max_delay,
            give_up_after: config.retry.give_up_after,
        },
        credit_policy: credit_policy(config),
    }
}

/// Starts `provider` when the config enables it: its client in the router,
/// its workers beside it. The one list of what each provider starts; a new
/// [`Provider`] does not compile until it has its arm here.
fn start_provider(
    provider: Provider,
    config: &Config,
    ctx: &WorkerContext,
    started: &mut Started,
) -> Result<(), StartError> {
    match provider {
        Provider::Jgoods => config
            .enabled_jgoods()
            .map_or(Ok(()), |c| jgoods::wiring::start(c, ctx, started)),
        Provider::RakutenPay => config
            .enabled_rakuten_pay()
            .map_or(Ok(()), |c| rakuten_pay::wiring::start(c, ctx, started)),
        Provider::Komoju => config
            .enabled_komoju()
            .map_or(Ok(()), |c| komoju::wiring::start(c, ctx, started)),
        Provider::Kuroneko => config
            .enabled_kuroneko()
            .map_or(Ok(()), |c| credit::kuroneko::wiring::start(c, ctx, started)),
        Provider::AtobaraiCom => config.enabled_atobarai_com().map_or(Ok(()), |c| {
            credit::atobarai_com::wiring::start(c, ctx, started)
        }),
        Provider::YahooShopping => config.enabled_yahoo_shopping().map_or(Ok(()), |c| {
            crate::providers::yahoo_shopping::wiring::start(c, ctx, started)
        }),
    }
}

/// The J-goods client, when `[jgoods]` is enabled (for the CLI's catalog
/// commands, which call J-goods without a daemon).
pub fn jgoods_client(
    config: &Config,
) -> anyhow::Result<Option<Arc<crate::providers::jgoods::client::JgoodsClient>>> {
    let Some(j) = config.enabled_jgoods() else {
        return Ok(None);
    };
    Ok(Some(jgoods::wiring::client(
        j,
        crate::call::HttpLimits::of(&config.daemon),
    )?))
}

/// What the merchant configured about refused credit.
pub fn credit_policy(config: &Config) -> CreditPolicy {
    CreditPolicy {
        release_on_credit_ng: config.inventory.release_on_credit_ng,
    }
}

/// How payments are handled around shipment, from the config.
pub fn payment_policy(config: &Config) -> PaymentPolicy {
    PaymentPolicy {
        capture_on_ship: config.enabled_komoju().is_some_and(|k| k.capture_on_ship),
    }
}
