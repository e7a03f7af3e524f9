//! KOMOJU payments applied to their orders: webhooks (stored, deduplicated
//! by event id, then decided) and the answers to our own calls.

use serde_json::json;

use crate::domain::Provider;
use crate::domain::time;
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
    Ok(d.events
        .into_iter()
        .map(|e| e.kind.as_str().to_string())
        .collect())
}

/// The attention of an order whose KOMOJU payment goes back only by a
/// refund request: what is missing, Japanese first.
pub const BANK_ACCOUNT_NEEDED: &str = "KOMOJU の返金にはお客様の銀行口座が必要です(コンビニ・銀行振込・\
ペイジーは返金申請のみ。口座名義カナ・銀行名・支店番号 3 桁・口座番号 7 桁。手数料がかかります)。\
KOMOJU の管理画面で返金申請してください / KOMOJU needs the customer's bank account to refund this \
payment (konbini, bank transfer and Pay-easy are refunded only by a refund request: account name in \
kana, bank, 3-digit branch number, 7-digit account number; a fee applies). File the refund request \
in KOMOJU's dashboard";

/// Completes a refund call that cannot be made (the payment is refunded
/// only by a refund request) and puts its order in front of a person.
pub async fn needs_bank_account(
    store: &Store,
    outbox_id: i64,
    payment: Payment,
) -> store::Result<()> {
    store
        .write(move |tx| {
            let now = time::rfc3339(time::now());
            outbox::complete(tx, outbox_id, &now)?;
            let Some(order) = order_of(tx, &payment)? else {
                return Ok(());
            };
            let d = crate::engine::Decision {
                order: Some(crate::engine::OrderWrite {
                    attention: Some(crate::engine::Attention::Set(
                        BANK_ACCOUNT_NEEDED.to_string(),
                    )),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .event(
                crate::engine::EventKind::OrderAttention,
                json!({"reason": BANK_ACCOUNT_NEEDED, "payment_id": payment.id}),
            );
            orders::apply(tx, order.channel, &order.id, &d, &now)?;
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
