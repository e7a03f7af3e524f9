//! J-goods inputs applied to the store: webhooks, re-read orders and the
//! answers to our post-backs.

use crate::domain::Provider;
use crate::domain::{Channel, time};
use crate::providers::jgoods::OrderSnapshot;
use crate::providers::jgoods::rules::{self as rules, PutOutcome, Source};
use crate::store::{self, Store, Tx, inbox, orders, outbox, stock};

/// The provider name used in the inbox and the outbox.
/// The inbox and outbox name of the channel.
pub const PROVIDER: Provider = Provider::Jgoods;

pub use crate::providers::webhook::{Ingested, WebhookDelivery};

/// Stores the delivery and applies its decision in one transaction.
pub async fn ingest_webhook(
    store: &Store,
    delivery: WebhookDelivery,
    snap: OrderSnapshot,
) -> store::Result<Ingested> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            let receipt = delivery.receipt(&now);
            if !inbox::record_processed(tx, &receipt, Some(&snap.order_no))? {
                return Ok(Ingested::Duplicate);
            }
            let events = decide_snapshot(tx, &snap, Source::Webhook, &now)?;
            Ok(Ingested::Processed { events })
        })
        .await
}

/// Decides a snapshot against the stored order and writes the decision.
/// Returns the kinds of the events written.
pub fn decide_snapshot(
    tx: &Tx<'_>,
    snap: &OrderSnapshot,
    source: Source,
    now: &str,
) -> store::Result<Vec<String>> {
    let stored = orders::load(tx, Channel::Jgoods, &snap.order_no)?;
    let available = stock::available_map(tx, snap.lines.iter().map(|l| l.sku.as_str()))?;
    let decision = rules::decide(snap, stored.as_ref(), &available, source);
    orders::apply(tx, Channel::Jgoods, &snap.order_no, &decision, now)?;
    Ok(decision
        .events
        .into_iter()
        .map(|e| e.kind.as_str().to_string())
        .collect())
}

/// Records J-goods' answer to an allocation post-back and completes the call.
pub async fn finish_put(
    store: &Store,
    outbox_id: i64,
    order_no: String,
    outcome: PutOutcome,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            match &outcome {
                PutOutcome::GaveUp { reason } => outbox::kill(tx, outbox_id, reason, &now)?,
                PutOutcome::Refused { code, message } => {
                    outbox::kill(tx, outbox_id, &format!("{code}: {message}"), &now)?
                }
                PutOutcome::Accepted(_) => outbox::complete(tx, outbox_id, &now)?,
            }
            // Loaded after the call is finished, so `pending_calls` no longer
            // counts it. An unknown order is an error, which undoes the
            // finishing above with the rest of this write.
            let Some(order) = orders::load(tx, Channel::Jgoods, &order_no)? else {
                return Err(store::StoreError::Invalid(format!(
                    "outbox row {outbox_id} names unknown J-goods order {order_no}"
                )));
            };
            let decision = rules::decide_put_outcome(&order, &outcome);
            orders::apply(tx, Channel::Jgoods, &order_no, &decision, &now)?;
            Ok(())
        })
        .await
}

/// Applies an order re-read from J-goods and completes the fetch call.
pub async fn finish_fetch(
    store: &Store,
    outbox_id: i64,
    result: Result<OrderSnapshot, String>,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            match result {
                Ok(snap) => {
                    outbox::complete(tx, outbox_id, &now)?;
                    decide_snapshot(tx, &snap, Source::Fetched, &now)?;
                }
                Err(reason) => {
                    outbox::kill(tx, outbox_id, &reason, &now)?;
                    if let Some(row) = outbox::get(tx, outbox_id)?
                        && let Some(order_id) = row.order_id
                        && orders::load(tx, Channel::Jgoods, &order_id)?.is_some()
                    {
                        let d = rules::decide_fetch_failure(&reason);
                        orders::apply(tx, Channel::Jgoods, &order_id, &d, &now)?;
                    }
                }
            }
            Ok(())
        })
        .await
}
