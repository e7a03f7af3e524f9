//! Wiring: builds the store, the HTTP listeners and the dispatcher from the
//! config, supervises them, and shuts them down cleanly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, WebhookAuth};
use crate::dispatch::{Dispatcher, RetryPolicy};
use crate::engine::erp::PaymentPolicy;
use crate::http::{self, AppState, JgoodsWebhookSettings, WebhookAuthMode, metrics::Metrics};
use crate::pollers::jgoods_sweep::JgoodsSweep;
use crate::pollers::rakuten::{RakutenApi, RakutenPoller};
use crate::providers::jgoods::client::{JgoodsClient, JgoodsClientSettings};
use crate::providers::komoju::client::{KomojuClient, KomojuClientSettings};
use crate::providers::pacer::Pacer;
use crate::providers::rakuten_pay::client::{RakutenClient, RakutenClientSettings};
use crate::store::Store;

/// Outbound calls in flight at once.
const DISPATCH_CONCURRENCY: usize = 16;

/// A running daemon. Dropping it does not stop it; call [`Daemon::stop`].
pub struct Daemon {
    pub webhook_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub store: Store,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    /// Cancelled when a supervised task ends on its own (a fault).
    failed: CancellationToken,
    /// Makes every poller poll at once (one per poller).
    pokes: Vec<Arc<Notify>>,
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
        let wake = Arc::new(Notify::new());
        let jgoods_client = match config.enabled_jgoods() {
            Some(j) => Some(Arc::new(
                JgoodsClient::new(JgoodsClientSettings {
                    order_api_base_url: j.order_api_base_url.clone(),
                    item_api_base_url: j.item_api_base_url.clone(),
                    token_url: j.token_url.clone(),
                    client_id: j.client_id.clone(),
                    client_secret: j.client_secret.value().clone(),
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
        let state = AppState {
            store: store.clone(),
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
            dispatcher_wake: wake.clone(),
            metrics: Arc::new(Metrics::new()),
        };
        let jgoods_for_sweep = jgoods_client.clone();
        let dispatcher = Dispatcher {
            store: store.clone(),
            jgoods: jgoods_client.clone(),
            rakuten: rakuten_api.clone(),
            komoju: komoju_client,
            retry: RetryPolicy {
                initial_delay: config.retry.initial_delay,
                max_delay: config.retry.max_delay,
                give_up_after: config.retry.give_up_after,
            },
            safety_stock: config.inventory.safety_stock,
            concurrency: DISPATCH_CONCURRENCY,
            wake: wake.clone(),
        };
        let shutdown = CancellationToken::new();
        let failed = CancellationToken::new();
        let tracker = TaskTracker::new();
        let webhook_addr = webhook.local_addr()?;
        let admin_addr = admin.local_addr()?;

        spawn_supervised(&tracker, &failed, "webhook listener", {
            // The webhook listener faces the internet: a client trickling its
            // body must not hold a connection and a task for ever.
            let app = http::webhook_router(state.clone())
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    config.daemon.request_timeout,
                ))
                .into_make_service_with_connect_info::<SocketAddr>();
            let stop = shutdown.clone();
            async move {
                axum::serve(webhook, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                    .context("webhook listener")
            }
        });
        spawn_supervised(&tracker, &failed, "admin listener", {
            let app = http::admin::router(state.clone())
                .into_make_service_with_connect_info::<SocketAddr>();
            let stop = shutdown.clone();
            async move {
                axum::serve(admin, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                    .context("admin listener")
            }
        });
        spawn_supervised(&tracker, &failed, "dispatcher", {
            let stop = shutdown.clone();
            async move {
                dispatcher.run(stop).await;
                Ok(())
            }
        });
        let mut pokes = vec![];
        if let (Some(client), Some(j)) = (jgoods_for_sweep, config.enabled_jgoods()) {
            let poke = Arc::new(Notify::new());
            pokes.push(poke.clone());
            let sweep = JgoodsSweep {
                store: store.clone(),
                client,
                interval: j.sweep_interval,
                safety_stock: config.inventory.safety_stock,
                poke,
                dispatcher_wake: wake.clone(),
            };
            let stop = shutdown.clone();
            spawn_supervised(&tracker, &failed, "J-goods sweep", async move {
                sweep.run(stop).await;
                Ok(())
            });
        }
        if let (Some(api), Some(cfg)) = (rakuten_api, config.enabled_rakuten_pay()) {
            let poke = Arc::new(Notify::new());
            pokes.push(poke.clone());
            let poller = RakutenPoller {
                store: store.clone(),
                api,
                config: cfg.clone(),
                safety_stock: config.inventory.safety_stock,
                poke,
                dispatcher_wake: wake.clone(),
            };
            let stop = shutdown.clone();
            spawn_supervised(&tracker, &failed, "Rakuten poller", async move {
                poller.run(stop).await;
                Ok(())
            });
        }
        tracker.close();
        tracing::info!(%webhook_addr, %admin_addr, db = %store.path().display(), "ordersync is running");
        Ok(Daemon {
            webhook_addr,
            admin_addr,
            store,
            shutdown,
            tracker,
            failed,
            pokes,
        })
    }

    /// Makes the pollers poll now instead of at their next interval.
    pub fn poll_now(&self) {
        for poke in &self.pokes {
            poke.notify_one();
        }
    }

    /// Resolves when a supervised task ended on its own (the daemon is broken).
    pub async fn failed(&self) {
        self.failed.cancelled().await
    }

    /// Stops accepting work, lets in-flight requests and calls finish (up to
    /// `grace`), then closes the store.
    pub async fn stop(self, grace: Duration) {
        self.shutdown.cancel();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; stopping with work in flight");
        }
        self.store.close();
    }
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

/// `ordersync run`: the daemon under systemd or a terminal, until SIGTERM/SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let daemon = Daemon::bind_and_start(&config).await?;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let outcome = loop {
        tokio::select! {
            _ = term.recv() => break Ok(()),
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = hup.recv() => {
                tracing::warn!("SIGHUP: configuration reload is not supported yet; restart the service to apply changes");
            }
            _ = daemon.failed() => break Err(anyhow::anyhow!("a daemon task failed; exiting so the service manager restarts it")),
        }
    };
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("stopping: finishing in-flight work");
    daemon.stop(Duration::from_secs(20)).await;
    outcome
}
