//! Deferred-payment answers written: each decision about an order made as it
//! stands inside the transaction that also completes its outbox row.

use crate::domain::{Channel, Order, time};
use crate::engine::Decision;
use crate::store::{self, Store, orders, outbox};

pub(super) fn now() -> String {
    time::rfc3339(time::now())
}

/// Adds `more` to `d` (the order writes of both, fields of `more` winning).
pub(super) fn merge(d: &mut Decision, more: Decision) {
    if let Some(w) = more.order {
        let base = d.order.get_or_insert_with(Default::default);
        if let Some(c) = w.credit {
            let into = base.credit.get_or_insert_with(Default::default);
            into.registered = c.registered.or(into.registered.take());
            into.transaction = c.transaction.or(into.transaction);
        }
    }
    d.events.extend(more.events);
}

/// Completes the outbox row and writes the decision about the order as it
/// stands inside the transaction.
pub(super) async fn finish(
    store: &Store,
    outbox_id: i64,
    channel: Channel,
    order_id: String,
    decide: impl FnOnce(&Order) -> Decision + Send + 'static,
) -> store::Result<()> {
    write(store, Some(outbox_id), channel, order_id, decide).await
}

/// Writes a decision about an order as it stands inside the transaction (and
/// completes the outbox row that led to it, if any).
pub(super) async fn write(
    store: &Store,
    outbox_id: Option<i64>,
    channel: Channel,
    order_id: String,
    decide: impl FnOnce(&Order) -> Decision + Send + 'static,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = now();
            if let Some(id) = outbox_id {
                outbox::complete(tx, id, &now)?;
            }
            if let Some(order) = orders::load(tx, channel, &order_id)? {
                let d = decide(&order);
                orders::apply(tx, channel, &order_id, &d, &now)?;
            }
            Ok(())
        })
        .await
}
