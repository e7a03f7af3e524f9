//! KOMOJU payments applied to their orders: webhooks (stored, deduplicated
//! by event id, then decided) and the answers to our own calls.

use serde_json::json;

use crate::domain::Provider;
use crate::domain::time;
use crate::providers::komoju::refund_flow;
use crate::providers::komoju::rules::{self as rules, Source};
use crate::providers::komoju::{Event, Payment, WebhookEvent};
use crate::providers::webhook::{Ingested, WebhookDelivery};
use crate::store::{self, Store, Tx, inbox, orders, outbox};

/// The inbox and outbox name of the channel.
pub const PROVIDER: Provider = Provider::Komoju;

/// Stores the event and applies it to its order in one transaction. Events
/// without a payment (`ping`, other resources) and events for payments of no
/// known order are stored and acknowledged, nothing more.
pub async fn ingest_webhook(
    store: &Store,
    delivery: WebhookDelivery,
    event: Event,
) -> store::Result<Ingested> {
    let mut delivery = delivery;
    if let Some(kept) = super::refund_request::redact_bank_data(&delivery.body) {
        delivery.body = kept;
    }
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            let order_hint = event
                .payment
                .as_ref()
                .and_then(|p| p.external_order_num.clone());
            if !inbox::record_processed(tx, &delivery.receipt(&now), order_hint.as_deref())? {
                return Ok(Ingested::Duplicate);
            }
            if let Some(id) = &event.submerchant_of {
                super::platform::apply::seller_news(tx, id, &now)?;
                return Ok(Ingested::Processed { events: vec![] });
            }
            if let Some(pid) = &event.refund_request_of {
                return refund_request_updated(tx, pid, &now);
            }
            let Some(payment) = &event.payment else {
                return Ok(Ingested::Processed { events: vec![] });
            };
            let mut events = vec![];
            if event.kind == WebhookEvent::RefundCreated {
                events.extend(new_refunds(tx, payment, &now)?);
            }
            events.extend(apply(tx, payment, Source::Webhook, &now)?);
            Ok(Ingested::Processed { events })
        })
        .await
}

/// A refund request changed (`refund_request.updated`, whose `data` is the
/// request): the payment is re-read, where the request's state is
/// authoritative, when the order is following one.
fn refund_request_updated(tx: &Tx<'_>, payment_id: &str, now: &str) -> store::Result<Ingested> {
    let Some(order) = orders::find_by_payment(tx, PROVIDER.as_str(), payment_id, None)? else {
        return Ok(Ingested::Processed { events: vec![] });
    };
    let d = crate::engine::Decision {
        calls: vec![crate::engine::Call::KomojuFetch {
            payment_id: payment_id.to_string(),
        }],
        ..Default::default()
    };
    orders::apply(tx, order.channel, &order.id, &d, now)?;
    Ok(Ingested::Processed { events: vec![] })
}

/// Records a payment as KOMOJU answered one of our calls, and completes the call.
pub async fn finish_call(store: &Store, outbox_id: i64, payment: Payment) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            outbox::complete(tx, outbox_id, &now)?;
            apply(tx, &payment, Source::Api, &now)?;
            Ok(())
        })
        .await
}

fn apply(tx: &Tx<'_>, payment: &Payment, source: Source, now: &str) -> store::Result<Vec<String>> {
    let Some(order) = order_of(tx, payment)? else {
        tracing::info!(payment_id = %payment.id, "KOMOJU payment of no known order; acknowledged");
        return Ok(vec![]);
    };
    let d = rules::decide(payment, &order, source);
    orders::apply(tx, order.channel, &order.id, &d, now)?;
    refund_flow::follow(tx, &order, payment, now)?;
    super::platform::apply::checkout_split(tx, &order, payment, now)?;
    Ok(d.events
        .into_iter()
        .map(|e| e.kind.as_str().to_string())
        .collect())
}

pub use super::refund_flow::BANK_ACCOUNT_NEEDED;

/// Completes a money-back call whose payment is refunded only by a refund
/// request and has no bank account on file: the order says what is missing.
pub async fn needs_bank_account(
    store: &Store,
    outbox_id: i64,
    payment: Payment,
) -> store::Result<()> {
    with_order(store, outbox_id, payment, |tx, order, p, now| {
        refund_flow::needs_account(tx, order, p, now)
    })
    .await
}

/// Completes a refund-request call KOMOJU took (`request_id`: the request as
/// the payment re-read shows it), then applies the payment.
pub async fn refund_request_filed(
    store: &Store,
    outbox_id: i64,
    payment: Payment,
    request_id: Option<String>,
) -> store::Result<()> {
    with_order(store, outbox_id, payment, move |tx, order, p, now| {
        refund_flow::filed(tx, order, p, request_id, now)
    })
    .await
}

/// Completes a refund-request call KOMOJU refused (`field`: the parameter it
/// named): the account goes, the order asks for it again.
pub async fn refund_request_refused(
    store: &Store,
    outbox_id: i64,
    payment: Payment,
    field: Option<String>,
) -> store::Result<()> {
    with_order(store, outbox_id, payment, move |tx, order, p, now| {
        refund_flow::refused(tx, order, p, field.as_deref(), now)
    })
    .await
}

/// Completes the call, runs `step` on the payment's order (if known), then
/// applies the payment, all in one transaction.
pub(super) async fn with_order(
    store: &Store,
    outbox_id: i64,
    payment: Payment,
    step: impl FnOnce(&Tx<'_>, &crate::domain::Order, &Payment, &str) -> store::Result<()>
    + Send
    + 'static,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            outbox::complete(tx, outbox_id, &now)?;
            let Some(order) = order_of(tx, &payment)? else {
                return Ok(());
            };
            step(tx, &order, &payment, &now)?;
            apply(tx, &payment, Source::Api, &now)?;
            Ok(())
        })
        .await
}

/// The order a payment belongs to, by its id or its `external_order_num`.
fn order_of(tx: &Tx<'_>, payment: &Payment) -> store::Result<Option<crate::domain::Order>> {
    orders::find_by_payment(
        tx,
        PROVIDER.as_str(),
        &payment.id,
        payment.external_order_num.as_deref(),
    )
}

/// Counts each refund id once (`payment.refund.created` may come again).
fn new_refunds(tx: &Tx<'_>, payment: &Payment, now: &str) -> store::Result<Vec<String>> {
    let mut kinds = vec![];
    for r in &payment.refunds {
        let inserted = crate::store::exec(tx,
            "INSERT INTO komoju_refunds (refund_id, payment_id, amount, seen_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (refund_id) DO NOTHING",
            rusqlite::params![r.id, payment.id, r.amount, now],
        )?;
        if inserted == 1
            && let Some(order) = order_of(tx, payment)?
        {
            let d = crate::engine::Decision::default().event(
                crate::engine::EventKind::PaymentRefund,
                json!({"refund_id": r.id, "amount": r.amount, "chargeback": r.chargeback}),
            );
            orders::apply(tx, order.channel, &order.id, &d, now)?;
            kinds.push(crate::engine::EventKind::PaymentRefund.as_str().to_string());
        }
    }
    Ok(kinds)
}
