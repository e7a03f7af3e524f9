//! How a deferred-payment provider starts under its section: its
//! [`CreditProvider`] in the router, and a poller of the credit checks still
//! under review. Kuroneko Atobarai and Atobarai.com each call [`start`] with
//! their own provider (see their `wiring` modules).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::CreditProvider;
use super::poller::CreditPoller;
use crate::heartbeat::Heartbeat;
use crate::providers::router::Started;
use crate::worker::WorkerContext;

/// Puts `provider` in the router and its poller (every `poll_interval`)
/// beside it.
pub fn start(
    provider: Arc<dyn CreditProvider>,
    poll_interval: Duration,
    poller_name: &'static str,
    ctx: &WorkerContext,
    started: &mut Started,
) {
    started.router.credit.add(provider.clone());
    started.run(CreditPoller {
        ctx: ctx.clone(),
        provider,
        interval: poll_interval,
        policy: ctx.credit_policy,
        poke: Arc::new(Notify::new()),
        heartbeat: Heartbeat::unwatched(poller_name),
    });
}
