//! The J-goods safety net: every `sweep_interval`, list the orders J-goods
//! has at 承認待ち and decide any this daemon never received by webhook (a
//! lost delivery). Orders already known are left to their webhooks.

use crate::worker::{Wake, Worker};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::call::CallError;
use crate::domain::Provider;
use crate::domain::{Channel, time};
use crate::heartbeat::{self, Heartbeat};
use crate::providers::jgoods::Status;
use crate::providers::jgoods::apply as flow;
use crate::providers::jgoods::client::JgoodsClient;
use crate::providers::jgoods::rules::Source;
use crate::providers::polling::{self, last_success_key};
use crate::store::{kv, orders};
use crate::worker::WorkerContext;

const PROVIDER: Provider = Provider::Jgoods;
/// Pages read in one sweep at most (100 orders each).
const MAX_PAGES: u32 = 100;

#[derive(Clone)]
pub struct JgoodsSweep {
    /// The store, the dispatcher's wake, the metrics and the problems.
    pub ctx: WorkerContext,
    pub client: Arc<JgoodsClient>,
    pub interval: Duration,
    pub poke: Arc<Notify>,
    /// Checked in around every sweep; feeds the systemd watchdog.
    pub heartbeat: Heartbeat,
}

impl JgoodsSweep {
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            self.heartbeat.beat(heartbeat::POLL_ALLOWANCE);
            let result = self.sweep_once().await;
            self.ctx
                .problems
                .observe(PROVIDER, result.as_ref().map(|_| ()))
                .await;
            match result {
                Ok(0) => tracing::debug!("J-goods sweep: nothing missed"),
                Ok(n) => tracing::warn!(
                    recovered = n,
                    "J-goods sweep found paid orders no webhook had brought"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "J-goods sweep failed; trying again at the next interval")
                }
            }
            if !polling::rest(&self.heartbeat, &self.poke, &shutdown, self.interval).await {
                return;
            }
        }
    }

    /// One sweep; returns how many unknown orders were taken in.
    pub async fn sweep_once(&self) -> Result<usize, CallError> {
        let mut recovered = 0;
        let mut page = 1;
        while page <= MAX_PAGES {
            let found = self
                .ctx
                .metrics
                .timed(
                    PROVIDER,
                    self.client.search(Status::AwaitingApproval, None, page),
                )
                .await?;
            for snap in found.orders {
                let taken = self
                    .ctx
                    .store
                    .write(move |tx| {
                        if orders::load(tx, Channel::Jgoods, &snap.order_no)?.is_some() {
                            return Ok(false);
                        }
                        let now = time::rfc3339(time::now());
                        flow::decide_snapshot(tx, &snap, Source::Fetched, &now)?;
                        Ok(true)
                    })
                    .await?;
                recovered += usize::from(taken);
            }
            match found.next_page {
                Some(next) if next > page => page = next,
                _ => break,
            }
        }
        let now = time::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        self.ctx
            .store
            .write(move |tx| kv::set(tx, &last_success_key(PROVIDER), &now, &now))
            .await?;
        if recovered > 0 {
            self.ctx.dispatcher_wake.notify_one();
        }
        Ok(recovered)
    }
}

impl Worker for JgoodsSweep {
    fn name(&self) -> &'static str {
        "J-goods sweep"
    }

    fn heartbeat(&self) -> Option<Heartbeat> {
        Some(self.heartbeat.clone())
    }

    fn wake(&self) -> Wake {
        Wake::Poll(self.poke.clone())
    }

    fn run(self: Box<Self>, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(JgoodsSweep::run(*self, stop))
    }
}
