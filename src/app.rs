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

use secrecy::ExposeSecret;
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

use crate::config::SecretUnreadable;
use crate::config_file::Config;
use crate::heartbeat::{Health, Heartbeats};
use crate::http::admin::AuthLimiter;
use crate::http::forwarded::TrustedProxies;
use crate::http::serve::{self, Limits};
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::problems::ProviderProblems;
use crate::providers::jgoods::config::WebhookAuth;
use crate::providers::jgoods::webhook::{JgoodsWebhookSettings, WebhookAuthMode};
use crate::store::{Store, events};
use crate::systemd;

pub mod workers;
use workers::WorkerPlan;
pub use workers::{credit_policy, payment_policy};

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
    /// Poked when a master import owes J-goods something.
    catalog_wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    heartbeats: Heartbeats,
    /// Cancelled when a supervised task ends on its own (a fault).
    failed: CancellationToken,
    /// Makes the J-goods stock push look for due SKUs now.
    /// Channel-wide problems (refused keys, unregistered addresses), shared
    /// by every worker so one that meets the problem and one that sees it
    /// gone agree.
    problems: ProviderProblems,
    /// This installation's random id, kept in the store.
    installation_id: String,
    /// Wrong admin tokens per source; kept over a reload.
    auth_limiter: Arc<AuthLimiter>,
    /// Refused webhooks written this minute; kept over a reload.
    refusals: Arc<http::webhook::RefusalSample>,
    /// The console's sessions; kept over a reload.
    console_sessions: Arc<crate::http::console::Sessions>,
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
    /// Makes every stock push push at once (one per channel).
    stock_wakes: Vec<Arc<Notify>>,
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
    /// Held while the daemon runs: a second daemon, or `ordersync restore`,
    /// on the same data directory refuses.
    _lock: crate::store::restore::DataDirLock,
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
        config.check_serving()?;
        let lock = crate::store::restore::lock(&config.daemon.data_dir)?;
        let safety_stock = config.inventory.safety_stock;
        let store = Store::open_in(&config.daemon.data_dir, safety_stock).with_context(|| {
            format!(
                "cannot open the store in {}",
                config.daemon.data_dir.display()
            )
        })?;
        let metrics = Arc::new(crate::status::scrape::daemon_metrics(&store));
        // Decisions are counted from the events table, from here on.
        metrics.start_decision_count(store.read(|c| events::newest_id(c)).await?);
        let shared = Shared {
            auth_limiter: Arc::default(),
            refusals: Arc::default(),
            console_sessions: Arc::default(),
            store: store.clone(),
            wake: Arc::new(Notify::new()),
            catalog_wake: Arc::new(Notify::new()),
            metrics,
            heartbeats: Heartbeats::default(),
            failed: CancellationToken::new(),
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
        plan.prepare(&shared).await?;
        // A large stock import cut short by a stop: finish owing its pushes
        // (after the swap) or clear its scratch tables (before it).
        let resumed = store.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::store::stock_import::resume(&resumed).await {
                tracing::error!(error = %e, "cannot finish the stock import cut short by the last stop");
            }
        });
        let routes = Arc::new(ArcSwap::from_pointee(Routes::new(
            app_state(config, &shared)?,
            config.daemon.request_timeout,
        )));
        let shutdown = CancellationToken::new();
        let listeners = TaskTracker::new();
        let webhook_addr = webhook.local_addr()?;
        let admin_addr = admin.local_addr()?;
        let d = &config.daemon;
        let webhook_limits = Limits {
            header_read_timeout: d.header_read_timeout,
            write_timeout: d.write_timeout,
            max_requests_per_connection: d.max_requests_per_connection,
            max_connections: d.max_connections,
            max_per_source: d.max_connections_per_source,
            max_per_proxy: d.proxy_max_connections,
            trusted_proxies: TrustedProxies::new(d.trusted_proxies.clone()),
        };
        let admin_limits = Limits {
            max_connections: d.admin_max_connections,
            max_per_source: d.admin_max_connections_per_source,
            max_per_proxy: d.proxy_max_connections.min(d.admin_max_connections),
            ..webhook_limits.clone()
        };
        for (name, listener, pick, limits) in [
            (
                "webhook listener",
                webhook,
                (|r: &Routes| r.webhook.clone()) as fn(&Routes) -> Router,
                webhook_limits,
            ),
            (
                "admin listener",
                admin,
                |r: &Routes| r.admin.clone(),
                admin_limits,
            ),
        ] {
            let app = current_routes(routes.clone(), pick);
            let stop = shutdown.clone();
            spawn_supervised(&listeners, &shared.failed, name, async move {
                serve::serve(name, listener, app, limits, stop)
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
            _lock: lock,
        })
    }

    /// Applies a new config: the routes at once, the workers once the
    /// running ones finished their turn. The caller decides what may change
    /// (see [`crate::reload`]); listeners and the store stay as they are.
    /// On an error the daemon keeps running on the previous config.
    pub async fn reload(&mut self, config: &Config) -> anyhow::Result<()> {
        config.check_serving()?;
        let state = app_state(config, &self.shared)?;
        let plan = WorkerPlan::build(config, &self.shared)?;
        plan.prepare(&self.shared).await?;
        self.shared
            .store
            .set_safety_stock(config.inventory.safety_stock);
        self.routes
            .store(Arc::new(Routes::new(state, config.daemon.request_timeout)));
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
        for wake in &self.workers.stock_wakes {
            wake.notify_one();
        }
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
            // A local client holding a body back must not hold a connection.
            admin: http::admin::router(state).layer(axum::middleware::from_fn(move |req, next| {
                http::admin::bounded_body(request_timeout, req, next)
            })),
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
fn app_state(config: &Config, shared: &Shared) -> Result<AppState, SecretUnreadable> {
    let admin_token = match &config.daemon.admin_token {
        Some(t) => Some(t.value()?.clone()),
        None => None,
    };
    shared
        .console_sessions
        .bind_token(admin_token.as_ref().map(|t| t.expose_secret()));
    Ok(AppState {
        store: shared.store.clone(),
        jgoods_webhook: match config.enabled_jgoods() {
            Some(j) => Some(JgoodsWebhookSettings {
                auth: match j.webhook_auth {
                    WebhookAuth::Hmac => WebhookAuthMode::Hmac,
                    WebhookAuth::Bearer => WebhookAuthMode::Bearer,
                },
                secrets: vec![j.webhook_secret.value()?.clone()],
                allow_from: j.webhook_allow_from.clone(),
            }),
            None => None,
        },
        admin_token,
        admin_hosts: config.daemon.admin_hosts.clone(),
        auth_limiter: shared.auth_limiter.clone(),
        refusals: shared.refusals.clone(),
        refused_webhooks_per_minute: config.daemon.refused_webhooks_per_minute,
        console_sessions: shared.console_sessions.clone(),
        language: config.daemon.language,
        komoju_webhook_secrets: match config.enabled_komoju() {
            Some(k) => Some(vec![k.webhook_secret.value()?.clone()]),
            None => None,
        },
        payment_policy: payment_policy(config),
        credit_providers: config.enabled_credit_providers(),
        dispatcher_wake: shared.wake.clone(),
        catalog_wake: shared.catalog_wake.clone(),
        poll_intervals: crate::domain::Provider::ALL
            .iter()
            .filter_map(|p| {
                config
                    .poll_interval(*p)
                    .map(|i| (p.as_str().to_string(), i))
            })
            .collect(),
        metrics: shared.metrics.clone(),
        invoice: config.invoice.clone(),
        carrier_files: config.carrier_files.clone(),
        setup_hint: setup_hint(config),
    })
}

/// The first steps, while the config enables no provider.
fn setup_hint(config: &Config) -> Option<String> {
    (!config.any_provider_enabled()).then(|| {
        let (file, creds) = (config.source.display(), config.credentials_dir.display());
        format!(
            "連携がまだ有効になっていません。{file} で使う連携を enabled = true にし、秘密情報を {creds}/ に書いて、\
             sudo ordersync check-config の後 systemctl restart ordersync / No provider is enabled yet: \
             set enabled = true in {file} for each one you use, write its secrets into {creds}/, run \
             sudo ordersync check-config, then systemctl restart ordersync."
        )
    })
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
    let options = crate::config::LoadOptions {
        credentials_dir: Some(running.credentials_dir.clone()),
    };
    let file = match Config::load_with(path, &options) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("config reload refused, still running on the previous config: {e}");
            return None;
        }
    };
    for warning in file.permission_warnings().iter().chain(&file.warnings) {
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
