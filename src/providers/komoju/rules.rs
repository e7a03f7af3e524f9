//! Decisions for KOMOJU payments of direct orders: a payment's state (from a
//! webhook or a re-read) applied to its order, never moving it backwards.

use serde_json::json;

use crate::domain::Provider;
use crate::domain::order::PaymentMethod;
use crate::domain::order::PaymentRef;
use crate::domain::{Order, OrderState, PaymentState};
use crate::engine::EventKind;
use crate::engine::{Attention, Call, Decision, OrderWrite, StockMove};
use crate::providers::komoju::{Payment, PaymentStatus};

/// Where a payment's state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A webhook: only a hint when it looks inconsistent.
    Webhook,
    /// Our own read or call: authoritative.
    Api,
}

/// What the adapter keeps in `provider_status` of an order whose payment
/// waits for the customer (konbini, bank transfer, Pay-easy `authorized`):
/// the order's payment state stays pending, so this tells a repeat apart.
const AWAITING: &str = "authorized";

/// `provider_status` of an order whose payment failed (the customer may
/// try again; the order keeps its stock).
const FAILED: &str = "failed";
/// `provider_status` of an order whose money arrived mis-matched (booked
/// `captured`, not paid until KOMOJU matches it by hand).
const MISPAID: &str = "mispaid";

/// The KOMOJU status an order stands for.
fn status_of(order: &Order) -> PaymentStatus {
    if order.payment_state == PaymentState::Pending {
        match order.provider_status.as_deref() {
            Some(AWAITING) => return PaymentStatus::Authorized,
            Some(FAILED) => return PaymentStatus::Failed,
            Some(MISPAID) => return PaymentStatus::Captured,
            _ => {}
        }
    }
    match order.payment_state {
        PaymentState::Authorized => PaymentStatus::Authorized,
        PaymentState::Captured | PaymentState::Paid => PaymentStatus::Captured,
        PaymentState::Refunded => PaymentStatus::Refunded,
        PaymentState::Pending
        | PaymentState::Unpaid
        | PaymentState::Deferred
        | PaymentState::CreditPending
        | PaymentState::CreditOk
        | PaymentState::CreditNg => PaymentStatus::Pending,
    }
}

/// Decides what a payment's state means for its order.
pub fn decide(payment: &Payment, order: &Order, source: Source) -> Decision {
    let current = status_of(order);
    let incoming = payment.status;
    // Every decision records the payment id (an order registered by its
    // external number learns it here).
    let reference = OrderWrite {
        payment: Some(PaymentRef {
            method: PaymentMethod::Komoju,
            reference: Some(payment.id.clone()),
            external_order_num: None,
        }),
        ..Default::default()
    };
    let only_reference = || Decision {
        order: Some(reference.clone()),
        ..Default::default()
    };
    if incoming == current || incoming == PaymentStatus::Unknown {
        return only_reference();
    }
    if !incoming.supersedes(current) {
        // Out of order, or contradicting what we know: ask KOMOJU itself.
        let mut d = only_reference();
        if source == Source::Webhook {
            d.calls.push(Call::KomojuFetch {
                payment_id: payment.id.clone(),
            });
        }
        return d.event(
            EventKind::PaymentStale,
            json!({"status": incoming.as_str(), "current": current.as_str()}),
        );
    }
    match incoming {
        PaymentStatus::Authorized if !payment.ships_when_authorized() => {
            awaiting(payment, reference)
        }
        PaymentStatus::Captured if payment.mispaid() => mispaid(payment, reference),
        PaymentStatus::Authorized | PaymentStatus::Captured => paid(payment, order, reference),
        PaymentStatus::Refunded => refunded(payment, order, reference),
        PaymentStatus::Failed => failed(payment, order, reference),
        PaymentStatus::Cancelled | PaymentStatus::Expired => lost(payment, order, reference),
        PaymentStatus::Pending | PaymentStatus::Unknown => only_reference(),
    }
}

/// `authorized` of a type the customer pays later (konbini slip, bank
/// account, Pay-easy number issued), or of a type whose flow is not known:
/// not paid, not shippable. The order keeps its stock and waits; the
/// deadline goes on record (the payment expires after it).
fn awaiting(payment: &Payment, reference: OrderWrite) -> Decision {
    Decision {
        order: Some(OrderWrite {
            provider_status: Some(AWAITING.to_string()),
            ..reference
        }),
        ..Default::default()
    }
    .event(
        EventKind::PaymentAuthorized,
        json!({
            "payment_id": payment.id,
            "total": payment.total,
            "method": payment.method,
            "awaiting_customer": true,
            "payment_deadline": payment.payment_deadline.map(super::wire::format_time),
        }),
    )
}

/// The attempt failed, and the customer may try again (a declined card, a
/// wallet left unfinished): the order keeps its stock and a person knows;
/// it ends only when the payment expires or the order is cancelled.
fn failed(payment: &Payment, order: &Order, reference: OrderWrite) -> Decision {
    let reason = "KOMOJU の支払いが失敗しました(お客様は再度お支払いできます)。在庫は引当のままです。\
                  期限切れまで待つか、受注を取り消してください / KOMOJU payment failed; the customer \
                  may try again. The stock stays allocated until the payment expires or the order \
                  is cancelled"
        .to_string();
    let d = Decision {
        order: Some(OrderWrite {
            provider_status: Some(FAILED.to_string()),
            ..reference
        }),
        ..Default::default()
    }
    .event(EventKind::PaymentFailed, json!({"payment_id": payment.id}));
    if matches!(order.state, OrderState::Shipped | OrderState::Cancelled) {
        return d;
    }
    let mut d = d.event(EventKind::OrderAttention, json!({"reason": reason}));
    if let Some(w) = d.order.as_mut() {
        w.attention = Some(Attention::Set(reason));
    }
    d
}

/// Money arrived that does not match what was asked (a bank transfer of
/// another amount): KOMOJU matches it by hand; until then not paid, not
/// released for shipping.
fn mispaid(payment: &Payment, reference: OrderWrite) -> Decision {
    let taken = payment.captured.unwrap_or(0);
    let reason = format!(
        "KOMOJU への入金額 {taken} 円が請求額 {0} 円と一致しません。KOMOJU 側の照合(振込調査)が済むまで\
         出荷できません / The payment received ({taken} yen) does not match the amount asked ({0} \
         yen); not shippable until KOMOJU has matched it",
        payment.total
    );
    Decision {
        order: Some(OrderWrite {
            provider_status: Some(MISPAID.to_string()),
            attention: Some(Attention::Set(reason.clone())),
            ..reference
        }),
        ..Default::default()
    }
    .event(EventKind::OrderAttention, json!({"reason": reason}))
}

/// A card authorized, or any type captured: the order is confirmed (when it
/// was not further).
fn paid(payment: &Payment, order: &Order, reference: OrderWrite) -> Decision {
    let incoming = payment.status;
    let state = match order.state {
        OrderState::New | OrderState::Allocated => Some(OrderState::Confirmed),
        _ => None,
    };
    let (payment_state, kind) = if incoming == PaymentStatus::Authorized {
        (PaymentState::Authorized, EventKind::PaymentAuthorized)
    } else {
        (PaymentState::Captured, EventKind::PaymentCaptured)
    };
    // KOMOJU's own time of the authorization (a card authorizes when the
    // payment is created; there is no `authorized_at`): the lapse watch
    // counts from it, not from when the webhook happened to arrive.
    let authorized_at = (incoming == PaymentStatus::Authorized)
        .then(|| super::wire::format_time(payment.created_at));
    Decision {
        order: Some(OrderWrite {
            state,
            payment_state: Some(payment_state),
            ..reference
        }),
        ..Default::default()
    }
    .event(
        kind,
        json!({"payment_id": payment.id, "total": payment.total, "method": payment.method,
               "authorized_at": authorized_at}),
    )
}

/// Refunded in full: an order not shipped yet is cancelled and its stock released.
fn refunded(payment: &Payment, order: &Order, reference: OrderWrite) -> Decision {
    let unshipped = !matches!(order.state, OrderState::Shipped | OrderState::Cancelled);
    let ended = matches!(order.state, OrderState::Cancelled);
    let released = order.reserved_units();
    let mut d = Decision {
        order: Some(OrderWrite {
            payment_state: Some(PaymentState::Refunded),
            state: (unshipped && !ended).then_some(OrderState::Cancelled),
            ..reference
        }),
        stock: if unshipped {
            vec![StockMove::ReleaseOrder]
        } else {
            vec![]
        },
        ..Default::default()
    }
    .event(
        EventKind::PaymentRefunded,
        json!({"payment_id": payment.id, "amount_refunded": payment.amount_refunded}),
    );
    if unshipped && !ended {
        d = d.event(
            EventKind::OrderCancelled,
            json!({"by": Provider::Komoju.as_str(), "reason": "payment refunded", "released": released}),
        );
    }
    d
}

/// Cancelled, expired or failed: an order not shipped is cancelled and its
/// stock released; a shipped one needs a person.
fn lost(payment: &Payment, order: &Order, reference: OrderWrite) -> Decision {
    let incoming = payment.status;
    let unshipped = !matches!(order.state, OrderState::Shipped | OrderState::Cancelled);
    let released = order.reserved_units();
    if !unshipped {
        if matches!(order.state, OrderState::Cancelled) {
            return Decision {
                order: Some(reference),
                ..Default::default()
            };
        }
        let reason = format!(
            "出荷済みの受注で KOMOJU の支払いが {0} になりました。返金や回収を確認してください / \
             KOMOJU payment {0} for an order already shipped",
            incoming.as_str()
        );
        return Decision {
            order: Some(OrderWrite {
                attention: Some(Attention::Set(reason.clone())),
                ..reference
            }),
            ..Default::default()
        }
        .event(EventKind::OrderAttention, json!({"reason": reason}));
    }
    // A transfer of the wrong amount is not matched automatically: at the
    // deadline it looks unpaid [h-bt-check].
    let (check_ja, check_en) =
        if payment.method == "bank_transfer" && incoming == PaymentStatus::Expired {
            (
                "誤った金額の振込がないか KOMOJU で確認してください。",
                " Check with KOMOJU for a transfer of the wrong amount.",
            )
        } else {
            ("", "")
        };
    let reason = format!(
        "KOMOJU の支払いが {0} になったため、受注をキャンセルして在庫を戻しました。{check_ja} / \
         KOMOJU payment {0}: the order was cancelled and its stock released.{check_en}",
        incoming.as_str()
    );
    let write = OrderWrite {
        attention: Some(Attention::Set(reason.clone())),
        ..reference
    };
    Decision::cancel(released, write)
    .event(lost_event(incoming), json!({"payment_id": payment.id}))
    .event(
        EventKind::OrderCancelled,
        json!({"by": Provider::Komoju.as_str(), "reason": incoming.as_str(), "released": released}),
    )
    .event(EventKind::OrderAttention, json!({"reason": reason}))
}

/// Days after which an uncaptured authorization needs a person: KOMOJU
/// lets a two-step authorization lapse (`expired`) after about 30 days.
pub const LAPSE_WARN_DAYS: i64 = 25;
/// Days after which KOMOJU lets it lapse (the contract's "about 30").
pub const LAPSE_DAYS: i64 = 30;

/// The attention of an order authorized at `authorized_at` and still not
/// captured at `now`; `None` before [`LAPSE_WARN_DAYS`]. Japanese first,
/// the lapse date in JST.
pub fn lapse_attention(
    authorized_at: chrono::DateTime<chrono::FixedOffset>,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Option<String> {
    if now - authorized_at < chrono::TimeDelta::days(LAPSE_WARN_DAYS) {
        return None;
    }
    let lapses = (authorized_at + chrono::TimeDelta::days(LAPSE_DAYS))
        .with_timezone(&crate::domain::time::jst())
        .format("%Y-%m-%d %H:%M");
    Some(format!(
        "KOMOJUの与信(オーソリ)が{LAPSE_WARN_DAYS}日間売上確定されていません。{lapses}(JST)ごろに失効します: \
出荷して売上確定するか、受注を取り消してください / The KOMOJU authorization has not been captured \
for {LAPSE_WARN_DAYS} days and lapses around {lapses} JST: ship the order (capture) or cancel it"
    ))
}

/// `payment.<status>` for a payment that ended without money.
fn lost_event(s: PaymentStatus) -> EventKind {
    match s {
        PaymentStatus::Cancelled => EventKind::PaymentCancelled,
        PaymentStatus::Expired => EventKind::PaymentExpired,
        _ => EventKind::PaymentFailed,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_authorization_needs_a_person_after_25_days_with_its_lapse_date_in_jst() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:30:00Z").unwrap();
        let day = chrono::TimeDelta::days(1);
        assert_eq!(super::lapse_attention(at, at + day * 24), None);
        let text = super::lapse_attention(at, at + day * 25).unwrap();
        assert!(text.starts_with("KOMOJUの与信"), "{text}");
        assert!(text.contains("2026-12-01 09:30(JST)"), "{text}");
    }

    use super::*;
    use crate::domain::{Channel, OrderLine};

    fn payment(status: PaymentStatus) -> Payment {
        Payment {
            id: "p1".into(),
            status,
            amount: 1000,
            tax: 100,
            payment_method_fee: 0,
            total: 1100,
            currency: "JPY".into(),
            external_order_num: Some("SHOP-1".into()),
            payment_deadline: None,
            captured_at: None,
            amount_refunded: 0,
            method: "credit_card".into(),
            refunds: vec![],
            captured: None,
            refund_requests: vec![],
            split: vec![],
            created_at: chrono::Utc::now(),
        }
    }

    fn order(state: OrderState, payment_state: PaymentState) -> Order {
        Order {
            channel: Channel::Direct,
            id: "SHOP-1".into(),
            state,
            payment_state,
            attention: None,
            lines: vec![OrderLine {
                line_no: 1,
                sku: "A".into(),
                name: String::new(),
                qty: 1,
                reserved_qty: 1,
                unit_price: Some(1000),
            }],
            shipments: vec![],
            payment: None,
            provider_status: None,
            status_changed_at: None,
            credit: None,
            pending_calls: 0,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn authorization_releases_the_order_for_shipping() {
        let d = decide(
            &payment(PaymentStatus::Authorized),
            &order(OrderState::Allocated, PaymentState::Pending),
            Source::Webhook,
        );
        let w = d.order.unwrap();
        assert_eq!(
            (w.state, w.payment_state),
            (Some(OrderState::Confirmed), Some(PaymentState::Authorized))
        );
    }

    #[test]
    fn never_moves_backwards() {
        let captured = order(OrderState::Shipped, PaymentState::Captured);
        let d = decide(
            &payment(PaymentStatus::Authorized),
            &captured,
            Source::Webhook,
        );
        assert!(d.order.as_ref().unwrap().payment_state.is_none());
        assert_eq!(
            d.calls,
            vec![Call::KomojuFetch {
                payment_id: "p1".into()
            }]
        );
        let d = decide(&payment(PaymentStatus::Authorized), &captured, Source::Api);
        assert!(d.calls.is_empty());
    }

    #[test]
    fn expiry_cancels_an_unshipped_order_and_releases_its_stock() {
        let d = decide(
            &payment(PaymentStatus::Expired),
            &order(OrderState::Allocated, PaymentState::Pending),
            Source::Webhook,
        );
        assert_eq!(d.stock, vec![StockMove::ReleaseOrder]);
        let w = d.order.unwrap();
        assert_eq!(w.state, Some(OrderState::Cancelled));
        assert!(w.attention.is_some());
    }

    #[test]
    fn a_payment_lost_is_told_under_its_own_status() {
        for s in [
            PaymentStatus::Cancelled,
            PaymentStatus::Expired,
            PaymentStatus::Failed,
        ] {
            assert_eq!(lost_event(s).as_str(), format!("payment.{}", s.as_str()));
        }
    }
}
