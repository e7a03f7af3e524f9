//! What a background worker of the daemon (the dispatcher, a poller, the
//! sweep, a stock push, a watch) is to the daemon that runs it, and the one
//! context every worker of a generation is built from.
//!
//! The daemon spawns every [`Worker`] the same way: supervised (a worker that
//! ends on its own fails the daemon, so systemd restarts it), watched by the
//! systemd watchdog through its heartbeat, woken early through its [`Wake`],
//! stopped with the rest of its generation on a reload or at shutdown.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::call::{HttpLimits, RetryPolicy};
use crate::domain::Channel;
use crate::engine::credit::CreditPolicy;
use crate::heartbeat::Heartbeat;
use crate::metrics::Metrics;
use crate::problems::ProviderProblems;
use crate::store::Store;

/// What every worker of one generation shares, built once from the daemon
/// and handed to each channel that builds its workers.
#[derive(Clone)]
pub struct WorkerContext {
    /// The one store.
    pub store: Store,
    /// Poked when a decision queued outbound calls, so they go out at once.
    pub dispatcher_wake: Arc<Notify>,
    /// Poked when an import owes J-goods part of the product master.
    pub catalog_wake: Arc<Notify>,
    /// Provider call latency and errors.
    pub metrics: Arc<Metrics>,
    /// Channel-wide problems (refused keys, unregistered addresses), shared
    /// so the worker that meets one and the one that sees it gone agree.
    pub problems: ProviderProblems,
    /// `[daemon] http_timeout` and the answer caps: what bounds every client's calls.
    pub http: HttpLimits,
    /// `[retry]`: the outbox's backoff, which the stock pushes follow too.
    pub retry: RetryPolicy,
    /// `[inventory] release_on_credit_ng`.
    pub credit_policy: CreditPolicy,
}

impl WorkerContext {
    /// The context of a worker run on its own, outside a daemon (a command,
    /// a test, a benchmark): nobody to wake, its own metrics and problems,
    /// a 30 s call timeout and the default backoff.
    pub fn standalone(store: Store) -> WorkerContext {
        WorkerContext {
            store,
            dispatcher_wake: Arc::default(),
            catalog_wake: Arc::default(),
            metrics: Arc::default(),
            problems: ProviderProblems::default(),
            http: HttpLimits::of(&crate::config::DaemonConfig::default()),
            retry: RetryPolicy {
                initial_delay: Duration::from_secs(2),
                max_delay: Duration::from_secs(600),
                give_up_after: Duration::from_secs(24 * 3600),
            },
            credit_policy: CreditPolicy::default(),
        }
    }
}

/// How the daemon wakes a worker before its interval is up.
#[derive(Clone)]
pub enum Wake {
    /// It is not woken from outside (it sleeps on its own conditions).
    Never,
    /// A poller: `ordersync` pokes it to poll now (after a reload, in tests).
    Poll(Arc<Notify>),
    /// The stock push of a sales channel: woken to push what is due now.
    StockPush(Channel, Arc<Notify>),
}

/// A background worker.
pub trait Worker: Send + 'static {
    /// Its name in the logs, and in the error when it stops on its own.
    fn name(&self) -> &'static str;

    /// The heartbeat the systemd watchdog watches; `None` for a worker that
    /// only sleeps and looks (a watch), which the watchdog leaves alone.
    fn heartbeat(&self) -> Option<Heartbeat>;

    /// How it is woken early.
    fn wake(&self) -> Wake {
        Wake::Never
    }

    /// Works until `stop` is cancelled; in-flight work finishes first.
    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()>;
}
