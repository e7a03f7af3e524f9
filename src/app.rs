//! Wiring: builds the store, the HTTP listeners and the workers from the
//! config, supervises them, reloads them on SIGHUP and shuts them down
//! cleanly.
//!
//! Reload: the HTTP routes of the running config sit behind an [`ArcSwap`],
//! so a reload swaps them between two requests without closing a listener.
//! The workers (dispatcher, pollers, sweep) are one generation started from
//! one config; a reload lets the running generation finish its turn, then
//! starts the next from the new config, so no worker ever mixes two configs
//! and two dispatchers never work the outbox at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::Request;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::channels::Channels;
use crate::channels::credit::CreditProviders;
use crate::channels::credit::atobarai_com::client::{AtobaraiClient, AtobaraiClientSettings};
use crate::channels::credit::atobarai_com::provider::AtobaraiCredit;
use crate::channels::credit::kuroneko::client::{KuronekoClient, KuronekoClientSettings};
use crate::channels::credit::kuroneko::provider::KuronekoCredit;
use crate::channels::credit::poller::CreditPoller;
use crate::channels::credit::rules::CreditPolicy;
use crate::channels::jgoods::client::{JgoodsClient, JgoodsClientSettings};
use crate::channels::jgoods::stock_push::StockPusher;
use crate::channels::jgoods::sweep::JgoodsSweep;
use crate::channels::jgoods::webhook::{JgoodsWebhookSettings, WebhookAuthMode};
use crate::channels::komoju::client::{KomojuClient, KomojuClientSettings};
use crate::channels::pacer::Pacer;
use crate::channels::rakuten_pay::client::{RakutenClient, RakutenClientSettings};
use crate::channels::rakuten_pay::poller::{RakutenApi, RakutenPoller};
use crate::config::{Config, WebhookAuth};
use crate::domain::credit::DeferredProvider;
use crate::engine::erp::PaymentPolicy;
use crate::heartbeat::{Health, Heartbeat, Heartbeats};
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::outbox::{Dispatcher, RetryPolicy};
use crate::problems::ProviderProblems;
use crate::store::{Store, events};
use crate::systemd;

/// Outbound calls in flight at once.
const DISPATCH_CONCURRENCY: usize = 16;
/// How long `SIGTERM` lets in-flight work finish; below the unit's
/// `TimeoutStopSec=30s`, so the daemon exits 0 before systemd kills it.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// How long the workers may take to check in for the first time.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// What lives as long as the process, across reloads.
#[derive(Clone)]
struct Shared {
    store: Store,
    /// Poked when a decision queued outbound calls.
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    heartbeats: Heartbeats,
    /// Cancelled when a supervised task ends on its own (a fault).
    failed: CancellationToken,
    /// Makes the J-goods stock push look for due SKUs now.
    stock_push_wake: Arc<Notify>,
    /// Channel-wide problems (refused keys, unregistered addresses), shared
    /// by every worker so one that meets the problem and one that sees it
    /// gone agree.
    problems: ProviderProblems,
    /// This installation's random id, kept in the store.
    installation_id: String,
}

/// The routers built from the running config.
struct Routes {
    webhook: Router,
    admin: Router,
}

/// One generation of workers, started from one config.
struct Workers {
    stop: CancellationToken,
    tracker: TaskTracker,
    /// Makes every poller poll at once (one per poller).
    pokes: Vec<Arc<Notify>>,
}

impl Workers {
    /// Lets every worker finish its turn and waits for it.
    async fn stop(&self) {
        self.stop.cancel();
        self.tracker.wait().await;
    }
}

/// A running daemon. Dropping it does not stop it; call [`Daemon::stop`].
pub struct Daemon {
    pub webhook_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub store: Store,
    shared: Shared,
    routes: Arc<ArcSwap<Routes>>,
    workers: Workers,
    /// Stops the listeners.
    shutdown: CancellationToken,
    listeners: TaskTracker,
}

impl Daemon {
    /// Binds the configured addresses and starts.
    pub async fn bind_and_start(config: &Config) -> anyhow::Result<Daemon> {
        let webhook = TcpListener::bind(config.daemon.listen)
            .await
            .with_context(|| {
                format!("cannot listen on {} (daemon.listen)", config.daemon.listen)
            })?;
        let admin = TcpListener::bind(config.daemon.admin_listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (daemon.admin_listen)",
                    config.daemon.admin_listen
                )
            })?;
        Daemon::start(config, webhook, admin).await
    }

    /// Starts on listeners the caller bound (tests bind port 0).
    pub async fn start(
        config: &Config,
        webhook: TcpListener,
        admin: TcpListener,
    ) -> anyhow::Result<Daemon> {
        let store = Store::open_in(&config.daemon.data_dir).with_context(|| {
            format!(
                "cannot open the store in {}",
                config.daemon.data_dir.display()
            )
        })?;
        let mut metrics = Metrics::new();
        metrics.watch_store_writer(store.writer_stats());
        let metrics = Arc::new(metrics);
        // Decisions are counted from the events table, from here on.
        metrics.start_decision_count(store.read(events::newest_id).await?);
        let shared = Shared {
            store: store.clone(),
            wake: Arc::new(Notify::new()),
            metrics,
            heartbeats: Heartbeats::default(),
            failed: CancellationToken::new(),
            stock_push_wake: Arc::new(Notify::new()),
            problems: ProviderProblems::load(&store).await?,
            installation_id: store
                .write(|tx| {
                    crate::store::kv::installation_id(
                        tx,
                        &crate::domain::time::rfc3339(crate::domain::time::now()),
                    )
                })
                .await?,
        };
        let plan = WorkerPlan::build(config, &shared)?;
        let routes = Arc::new(ArcSwap::from_pointee(Routes::new(
            app_state(config, &shared),
            config.daemon.request_timeout,
        )));
        let shutdown = CancellationToken::new();
        let listeners = TaskTracker::new();
        let webhook_addr = webhook.local_addr()?;
        let admin_addr = admin.local_addr()?;
        for (name, listener, pick) in [
            (
                "webhook listener",
                webhook,
                (|r: &Routes| r.webhook.clone()) as fn(&Routes) -> Router,
            ),
            ("admin listener", admin, |r: &Routes| r.admin.clone()),
        ] {
            let app = current_routes(routes.clone(), pick)
                .into_make_service_with_connect_info::<SocketAddr>();
            let stop = shutdown.clone();
            spawn_supervised(&listeners, &shared.failed, name, async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                    .context(name)
            });
        }
        listeners.close();
        let workers = plan.spawn(&shared);
        tracing::info!(%webhook_addr, %admin_addr, db = %store.path().display(), "ordersync is running");
        Ok(Daemon {
            webhook_addr,
            admin_addr,
            store,
            shared,
            routes,
            workers,
            shutdown,
            listeners,
        })
    }

    /// Applies a new config: the routes at once, the workers once the
    /// running ones finished their turn. The caller decides what may change
    /// (see [`crate::reload`]); listeners and the store stay as they are.
    /// On an error the daemon keeps running on the previous config.
    pub async fn reload(&mut self, config: &Config) -> anyhow::Result<()> {
        let plan = WorkerPlan::build(config, &self.shared)?;
        self.routes.store(Arc::new(Routes::new(
            app_state(config, &self.shared),
            config.daemon.request_timeout,
        )));
        self.workers.stop().await;
        self.shared.heartbeats.clear();
        self.workers = plan.spawn(&self.shared);
        Ok(())
    }

    /// Waits until every worker checked in once.
    pub async fn wait_until_running(&self, limit: Duration) -> anyhow::Result<()> {
        let until = tokio::time::Instant::now() + limit;
        while let Health::Starting(workers) = self.shared.heartbeats.health() {
            anyhow::ensure!(
                tokio::time::Instant::now() < until,
                "workers did not start within {limit:?}: {}",
                workers.join(", ")
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }

    /// The workers' heartbeats (for the watchdog).
    pub fn heartbeats(&self) -> Heartbeats {
        self.shared.heartbeats.clone()
    }

    /// Makes the pollers poll now instead of at their next interval.
    pub fn poll_now(&self) {
        for poke in &self.workers.pokes {
            poke.notify_one();
        }
    }

    /// Makes the J-goods stock push look for due SKUs now (it still keeps
    /// to `stock_push_interval` per SKU).
    pub fn push_stock_now(&self) {
        self.shared.stock_push_wake.notify_one();
    }

    /// Resolves when a supervised task ended on its own (the daemon is broken).
    pub async fn failed(&self) {
        self.shared.failed.cancelled().await
    }

    /// Stops accepting work, lets in-flight requests and calls finish (up to
    /// `grace`), then closes the store.
    pub async fn stop(self, grace: Duration) {
        self.shutdown.cancel();
        let drained = async {
            tokio::join!(self.workers.stop(), self.listeners.wait());
        };
        if tokio::time::timeout(grace, drained).await.is_err() {
            tracing::warn!("shutdown grace period over; stopping with work in flight");
        }
        self.store.close();
    }
}

impl Routes {
    fn new(state: AppState, request_timeout: Duration) -> Routes {
        Routes {
            // The webhook listener faces the internet: a client trickling its
            // body must not hold a connection and a task for ever.
            webhook: http::webhook_router(state.clone()).layer(
                tower_http::timeout::TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    request_timeout,
                ),
            ),
            admin: http::admin::router(state),
        }
    }
}

/// A router that hands each request to the routes current at that moment.
/// Connection info travels in the request's extensions, so the inner routes
/// still see the peer address.
fn current_routes(routes: Arc<ArcSwap<Routes>>, pick: fn(&Routes) -> Router) -> Router {
    Router::new().fallback_service(tower::service_fn(move |req: Request| {
        let router: Router = pick(&routes.load());
        router.oneshot(req)
    }))
}

/// What the HTTP handlers need, from one config.
fn app_state(config: &Config, shared: &Shared) -> AppState {
    AppState {
        store: shared.store.clone(),
        safety_stock: config.inventory.safety_stock,
        jgoods_webhook: config.enabled_jgoods().map(|j| JgoodsWebhookSettings {
            auth: match j.webhook_auth {
                WebhookAuth::Hmac => WebhookAuthMode::Hmac,
                WebhookAuth::Bearer => WebhookAuthMode::Bearer,
            },
            secrets: vec![j.webhook_secret.value().clone()],
            allow_from: j.webhook_allow_from.clone(),
        }),
        admin_token: config
            .daemon
            .admin_token
            .as_ref()
            .map(|t| t.value().clone()),
        komoju_webhook_secrets: config
            .enabled_komoju()
            .map(|k| vec![k.webhook_secret.value().clone()]),
        payment_policy: payment_policy(config),
        credit_providers: config.enabled_credit_providers(),
        dispatcher_wake: shared.wake.clone(),
        metrics: shared.metrics.clone(),
        invoice: config.invoice.clone(),
    }
}

/// The workers of one config, built (clients and all) but not yet running,
/// so a config whose clients cannot be built never stops the running ones.
struct WorkerPlan {
    dispatcher: Dispatcher,
    sweep: Option<JgoodsSweep>,
    rakuten: Option<RakutenPoller>,
    credit: Vec<CreditPoller>,
    stock_push: Option<StockPusher>,
    /// With KOMOJU enabled: authorizations watched for their lapse.
    komoju_lapse: Option<crate::channels::komoju::lapse::LapseWatch>,
}

impl WorkerPlan {
    fn build(config: &Config, shared: &Shared) -> anyhow::Result<WorkerPlan> {
        let jgoods_client = match config.enabled_jgoods() {
            Some(j) => Some(Arc::new(
                JgoodsClient::new(JgoodsClientSettings {
                    order_api_base_url: j.order_api_base_url.clone(),
                    item_api_base_url: j.item_api_base_url.clone(),
                    token_url: j.token_url.clone(),
                    client_id: j.client_id.clone(),
                    client_secret: j.client_secret.value().clone(),
                    token_auth: j.token_auth,
                    timeout: config.daemon.http_timeout,
                })
                .map_err(|e| anyhow::anyhow!("cannot build the J-goods client: {e}"))?,
            )),
            None => None,
        };
        let rakuten_api = match config.enabled_rakuten_pay() {
            Some(r) => Some(Arc::new(RakutenApi {
                client: RakutenClient::new(RakutenClientSettings::from_config(
                    r,
                    config.daemon.http_timeout,
                ))
                .map_err(|e| anyhow::anyhow!("cannot build the Rakuten client: {e}"))?,
                pacer: Pacer::new(r.request_interval),
            })),
            None => None,
        };
        let komoju_client = match config.enabled_komoju() {
            Some(k) => Some(Arc::new(
                KomojuClient::new(KomojuClientSettings::from_config(
                    k,
                    config.daemon.http_timeout,
                ))
                .map_err(|e| anyhow::anyhow!("cannot build the KOMOJU client: {e}"))?,
            )),
            None => None,
        };
        let safety_stock = config.inventory.safety_stock;
        let credit = credit_providers(config)?;
        let dispatcher = Dispatcher {
            store: shared.store.clone(),
            channels: Channels {
                jgoods: jgoods_client.clone(),
                rakuten: rakuten_api.clone(),
                komoju: komoju_client,
                credit: credit.clone(),
                credit_policy: credit_policy(config),
            },
            retry: RetryPolicy {
                initial_delay: config.retry.initial_delay,
                max_delay: config.retry.max_delay,
                give_up_after: config.retry.give_up_after,
            },
            safety_stock,
            concurrency: DISPATCH_CONCURRENCY,
            wake: shared.wake.clone(),
            heartbeat: Heartbeat::unwatched("dispatcher"),
            metrics: shared.metrics.clone(),
            problems: shared.problems.clone(),
            installation_id: shared.installation_id.clone(),
        };
        let stock_push = match (&jgoods_client, config.enabled_jgoods()) {
            (Some(client), Some(j)) if !j.stock_push_interval.is_zero() => {
                let mut pusher = StockPusher::new(
                    shared.store.clone(),
                    client.clone(),
                    j.stock_push_interval,
                    safety_stock,
                    dispatcher.retry,
                    shared.metrics.clone(),
                );
                pusher.problems = shared.problems.clone();
                Some(pusher)
            }
            _ => None,
        };
        let sweep = match (jgoods_client, config.enabled_jgoods()) {
            (Some(client), Some(j)) => Some(JgoodsSweep {
                store: shared.store.clone(),
                client,
                interval: j.sweep_interval,
                safety_stock,
                poke: Arc::new(Notify::new()),
                dispatcher_wake: shared.wake.clone(),
                heartbeat: Heartbeat::unwatched("J-goods sweep"),
                metrics: shared.metrics.clone(),
                problems: shared.problems.clone(),
            }),
            _ => None,
        };
        let rakuten = match (rakuten_api, config.enabled_rakuten_pay()) {
            (Some(api), Some(cfg)) => Some(RakutenPoller {
                store: shared.store.clone(),
                api,
                config: cfg.clone(),
                safety_stock,
                poke: Arc::new(Notify::new()),
                dispatcher_wake: shared.wake.clone(),
                heartbeat: Heartbeat::unwatched("Rakuten poller"),
                metrics: shared.metrics.clone(),
                problems: shared.problems.clone(),
            }),
            _ => None,
        };
        let credit = credit
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
                safety_stock,
                poke: Arc::new(Notify::new()),
                dispatcher_wake: shared.wake.clone(),
                problems: shared.problems.clone(),
            })
            .collect();
        Ok(WorkerPlan {
            dispatcher,
            sweep,
            rakuten,
            credit,
            stock_push,
            komoju_lapse: config.enabled_komoju().map(|_| {
                crate::channels::komoju::lapse::LapseWatch {
                    store: shared.store.clone(),
                }
            }),
        })
    }

    fn spawn(self, shared: &Shared) -> Workers {
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut pokes = vec![];
        let watch = |hb: &Heartbeat| shared.heartbeats.watch(hb.clone());
        watch(&self.dispatcher.heartbeat);
        spawn_supervised(&tracker, &shared.failed, "dispatcher", {
            let stop = stop.clone();
            async move {
                self.dispatcher.run(stop).await;
                Ok(())
            }
        });
        if let Some(sweep) = self.sweep {
            watch(&sweep.heartbeat);
            pokes.push(sweep.poke.clone());
            let stop = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "J-goods sweep", async move {
                sweep.run(stop).await;
                Ok(())
            });
        }
        if let Some(poller) = self.rakuten {
            watch(&poller.heartbeat);
            pokes.push(poller.poke.clone());
            let stop = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "Rakuten poller", async move {
                poller.run(stop).await;
                Ok(())
            });
        }
        if let Some(pusher) = self.stock_push {
            watch(&pusher.heartbeat);
            let (wake, stop) = (shared.stock_push_wake.clone(), stop.clone());
            spawn_supervised(&tracker, &shared.failed, "J-goods stock push", async move {
                pusher.run(wake, stop).await;
                Ok(())
            });
        }
        for poller in self.credit {
            watch(&poller.heartbeat);
            pokes.push(poller.poke.clone());
            let stop = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "credit poller", async move {
                poller.run(stop).await;
                Ok(())
            });
        }
        if let Some(lapse) = self.komoju_lapse {
            let poke = Arc::new(Notify::new());
            pokes.push(poke.clone());
            let stop = stop.clone();
            spawn_supervised(&tracker, &shared.failed, "KOMOJU lapse watch", async move {
                lapse.run(poke, stop).await;
                Ok(())
            });
        }
        tracker.close();
        Workers {
            stop,
            tracker,
            pokes,
        }
    }
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
        ))
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

/// Runs a task; if it ends (error or not) while the daemon is meant to run,
/// the daemon is marked failed so the caller exits and systemd restarts it.
fn spawn_supervised<F>(
    tracker: &TaskTracker,
    failed: &CancellationToken,
    name: &'static str,
    fut: F,
) where
    F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let failed = failed.clone();
    tracker.spawn(async move {
        match fut.await {
            Ok(()) => tracing::debug!(task = name, "task finished"),
            Err(e) => {
                tracing::error!(task = name, error = format!("{e:#}"), "task failed");
                failed.cancel();
            }
        }
    });
}

/// `ordersync run`: the daemon under systemd or a terminal, until
/// SIGTERM/SIGINT. SIGHUP reloads the config file.
pub async fn run(config: Config) -> anyhow::Result<()> {
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let mut daemon = Daemon::bind_and_start(&config).await?;
    daemon.wait_until_running(STARTUP_LIMIT).await?;
    systemd::ready(&status_now(&daemon).await);
    let keep_alive_stop = CancellationToken::new();
    let keep_alive = tokio::spawn(systemd::keep_alive(
        daemon.store.clone(),
        daemon.heartbeats(),
        keep_alive_stop.clone(),
    ));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut running = config;
    let outcome = loop {
        tokio::select! {
            _ = term.recv() => break Ok(()),
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = hup.recv() => {
                systemd::reloading();
                if let Some(next) = reload(&mut daemon, &running).await {
                    running = next;
                }
                if let Err(e) = daemon.wait_until_running(STARTUP_LIMIT).await {
                    break Err(e);
                }
                systemd::ready(&status_now(&daemon).await);
            }
            _ = daemon.failed() => break Err(anyhow::anyhow!("a daemon task failed; exiting so the service manager restarts it")),
        }
    };
    systemd::stopping();
    tracing::info!("stopping: finishing in-flight work");
    keep_alive_stop.cancel();
    let _ = keep_alive.await;
    daemon.stop(STOP_GRACE).await;
    outcome
}

/// SIGHUP: re-reads and validates the config file and applies what may
/// change live. Returns the config now running, or `None` when the daemon
/// keeps the previous one (the reason is logged).
async fn reload(daemon: &mut Daemon, running: &Config) -> Option<Config> {
    let path = &running.source;
    tracing::info!(config = %path.display(), "SIGHUP: reloading the config");
    let file = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("config reload refused, still running on the previous config: {e}");
            return None;
        }
    };
    for warning in crate::config::permission_warnings(path)
        .iter()
        .chain(&file.warnings)
    {
        tracing::warn!("{warning}");
    }
    let plan = match crate::reload::plan(running, &file) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(
                "config reload refused, still running on the previous config: {}: {e}",
                path.display()
            );
            return None;
        }
    };
    if !plan.need_restart.is_empty() {
        tracing::warn!(
            settings = ?plan.need_restart,
            "changed settings take effect only after a restart (systemctl restart ordersync); running with the previous values"
        );
    }
    if let Err(e) = daemon.reload(&plan.effective).await {
        tracing::error!(
            error = format!("{e:#}"),
            "config reload failed, still running on the previous config"
        );
        return None;
    }
    tracing::info!(applied = ?plan.applied, "config reloaded");
    Some(plan.effective)
}

async fn status_now(daemon: &Daemon) -> String {
    match crate::status::Status::load(&daemon.store, crate::status::Detail::Brief).await {
        Ok(s) => systemd::status_line(&s, &daemon.shared.heartbeats.health()),
        Err(_) => "running; store unavailable".to_string(),
    }
}
