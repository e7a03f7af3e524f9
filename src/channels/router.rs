//! Routes each outbox call to the channel it belongs to: the dispatcher's
//! [`CallRunner`], so the dispatcher itself names no channel.

use std::sync::Arc;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;

use super::{credit, jgoods, komoju, rakuten_pay};
use crate::call::{self, Attempt, CallContext, CallRunner};
use crate::engine::Call;
use crate::store;

/// The enabled channels' clients: what the dispatcher makes calls with.
#[derive(Clone, Default)]
pub struct Channels {
    pub jgoods: Option<Arc<jgoods::client::JgoodsClient>>,
    pub rakuten: Option<Arc<rakuten_pay::poller::RakutenApi>>,
    pub komoju: Option<Arc<komoju::client::KomojuClient>>,
    /// Deferred-payment providers (Kuroneko Atobarai, Atobarai.com) enabled.
    pub credit: credit::CreditProviders,
    pub credit_policy: crate::engine::credit::CreditPolicy,
}

impl CallRunner for Channels {
    fn run<'a>(&'a self, ctx: &'a CallContext<'a>) -> BoxFuture<'a, store::Result<Attempt>> {
        self.route(ctx).boxed()
    }
}

impl Channels {
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
            Call::KomojuCapture { .. }
            | Call::KomojuCancel { .. }
            | Call::KomojuRefund { .. }
            | Call::KomojuFetch { .. } => match &self.komoju {
                Some(client) => komoju::calls::run(client, ctx).await,
                None => waits(),
            },
            Call::CreditRequest { .. } | Call::CreditShip { .. } | Call::CreditCancel { .. } => {
                credit::calls::run(&self.credit, self.credit_policy, ctx).await
            }
        }
    }
}
