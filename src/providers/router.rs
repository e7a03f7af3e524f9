//! Routes each outbox call to the channel it belongs to: the dispatcher's
//! [`CallRunner`], so the dispatcher itself names no channel. Each enabled
//! channel puts its client here and its workers beside it when it starts
//! ([`Started`]).

use std::sync::Arc;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;

use super::{credit, jgoods, komoju, rakuten_pay, yahoo_shopping};
use crate::call::{self, Attempt, CallContext, CallRunner};
use crate::domain::Provider;
use crate::engine::Call;
use crate::store;
use crate::worker::Worker;

/// The enabled channels' clients: what the dispatcher makes calls with.
#[derive(Clone, Default)]
pub struct Router {
    pub jgoods: Option<Arc<jgoods::client::JgoodsClient>>,
    pub rakuten: Option<Arc<rakuten_pay::poller::RakutenApi>>,
    pub komoju: Option<Arc<komoju::client::KomojuClient>>,
    pub yahoo: Option<Arc<yahoo_shopping::wiring::YahooApi>>,
    /// Deferred-payment providers (Kuroneko Atobarai, Atobarai.com) enabled.
    pub credit: credit::CreditProviders,
    pub credit_policy: crate::engine::credit::CreditPolicy,
}

/// What the enabled channels of one config started: the router the
/// dispatcher calls through, and the channels' workers.
#[derive(Default)]
pub struct Started {
    pub router: Router,
    pub workers: Vec<Box<dyn Worker>>,
}

impl Started {
    /// Nothing started yet; deferred-payment calls follow `credit_policy`.
    pub fn new(credit_policy: crate::engine::credit::CreditPolicy) -> Started {
        Started {
            router: Router {
                credit_policy,
                ..Router::default()
            },
            workers: Vec::new(),
        }
    }

    /// Adds one worker.
    pub fn run(&mut self, worker: impl Worker) {
        self.workers.push(Box::new(worker));
    }
}

/// A channel that cannot start under its config: its client cannot be built
/// (a secret that cannot be read, a TLS setup that fails).
#[derive(Debug, thiserror::Error)]
#[error("cannot start {provider}: {reason}")]
pub struct StartError {
    pub provider: Provider,
    pub reason: String,
}

impl StartError {
    pub fn new(provider: Provider, reason: impl std::fmt::Display) -> StartError {
        StartError {
            provider,
            reason: reason.to_string(),
        }
    }
}

impl CallRunner for Router {
    fn run<'a>(&'a self, ctx: &'a CallContext<'a>) -> BoxFuture<'a, store::Result<Attempt>> {
        self.route(ctx).boxed()
    }
}

impl Router {
    /// Makes the call of one outbox row with the channel it belongs to; a call
    /// of a channel that is not enabled waits.
    async fn route(&self, ctx: &CallContext<'_>) -> store::Result<Attempt> {
        let waits = || Ok(call::not_configured(ctx.row.call.provider().as_str()));
        match &ctx.row.call {
            Call::JgoodsPutOrder { .. } | Call::JgoodsFetchOrder { .. } => match &self.jgoods {
                Some(client) => jgoods::calls::run(client, ctx).await,
                None => waits(),
            },
            Call::RakutenShip { .. } => match &self.rakuten {
                Some(api) => rakuten_pay::calls::run(api, ctx).await,
                None => waits(),
            },
            Call::YahooMarkSeen { .. } | Call::YahooShip { .. } => match &self.yahoo {
                Some(api) => yahoo_shopping::calls::run(api, ctx).await,
                None => waits(),
            },
            Call::KomojuCapture { .. }
            | Call::KomojuCancel { .. }
            | Call::KomojuRefund { .. }
            | Call::KomojuFetch { .. }
            | Call::KomojuRefundRequest { .. } => match &self.komoju {
                Some(client) => komoju::calls::run(client, ctx).await,
                None => waits(),
            },
            Call::KomojuCreateSeller { .. }
            | Call::KomojuFetchSeller { .. }
            | Call::KomojuSplitCapture { .. }
            | Call::KomojuSplitRefund { .. }
            | Call::KomojuSellerTransfer { .. } => match &self.komoju {
                Some(client) => komoju::platform::calls::run(client, ctx).await,
                None => waits(),
            },
            Call::CreditRequest { .. } | Call::CreditShip { .. } | Call::CreditCancel { .. } => {
                credit::calls::run(&self.credit, self.credit_policy, ctx).await
            }
        }
    }
}
