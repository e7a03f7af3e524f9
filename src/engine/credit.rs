//! Decisions for deferred-payment orders (Kuroneko Atobarai, Atobarai.com):
//! `credit_pending → credit_ok | credit_ng`. An OK releases the order for
//! shipping; NG or over limit puts it in attention and (config) gives its
//! stock back. The credit is re-checked just before the shipment is
//! registered, because an OK can still turn NG.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::domain::Carrier;
use crate::domain::credit::{
    BilledLine, CreditApplication, CreditCase, CreditVerdict, DeferredProvider, Transaction,
};
use crate::domain::direct::Party;
use crate::domain::{Channel, Order, OrderState, PaymentState};
use crate::engine::EventKind;
use crate::engine::{Attention, Call, CreditWrite, Decision, OrderWrite, StockMove};

/// What the merchant configured about refused credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreditPolicy {
    /// `[inventory] release_on_credit_ng`: give a refused order's stock back.
    pub release_on_credit_ng: bool,
}

/// Where a verdict comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The answer to our credit request: the provider's id of the
    /// transaction, and when it answered (Unix ms).
    Request { reference: String, at_ms: i64 },
    /// The credit poller.
    Poll,
    /// The re-check just before the shipment is registered.
    BeforeShipment,
}

/// The provider and the stored check of a deferred-payment order.
fn credit_of(order: &Order) -> Option<(DeferredProvider, &CreditCase)> {
    order.credit.as_ref().map(|c| (c.provider, c))
}

/// The first credit request of a new order: the check to store and the call.
pub fn start(channel: Channel, order_id: &str, provider: DeferredProvider) -> (CreditWrite, Call) {
    (
        CreditWrite {
            provider: Some(provider),
            attempt: Some(1),
            result: Some(CreditVerdict::Pending),
            ..Default::default()
        },
        Call::CreditRequest {
            provider,
            channel,
            order_id: order_id.to_string(),
            attempt: 1,
        },
    )
}

/// Applies a credit verdict to its order.
pub fn verdict(
    order: &Order,
    v: CreditVerdict,
    source: Source,
    policy: CreditPolicy,
    now: &str,
) -> Decision {
    let Some((provider, case)) = credit_of(order) else {
        return Decision::default();
    };
    let mut write = OrderWrite {
        credit: Some(CreditWrite {
            result: Some(v),
            checked_at: Some(now.to_string()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut d = Decision::default();
    if let Source::Request { reference, at_ms } = &source {
        d = requested(order, provider, v, reference, *at_ms, &mut write);
    }
    let changed = case.result != v;
    if order.state == OrderState::Cancelled {
        d.order = Some(write);
        return d;
    }
    match v {
        CreditVerdict::Pending => {
            write.payment_state = Some(PaymentState::CreditPending);
            if let Some(reason) =
                review_overdue(provider, case.requested_at_ms, &source, order, now)
            {
                write.attention = Some(Attention::Set(reason.clone()));
                d = d.event(EventKind::OrderAttention, json!({"reason": reason}));
            }
        }
        CreditVerdict::Ok => {
            write.payment_state = Some(PaymentState::CreditOk);
            // Released for shipping. A short order stays short: the stock
            // decides that, not the credit.
            if matches!(order.state, OrderState::New | OrderState::Allocated) {
                write.state = Some(OrderState::Confirmed);
            }
            if changed {
                d = d.event(EventKind::CreditOk, json!({"provider": provider.as_str()}));
            }
        }
        CreditVerdict::Ng | CreditVerdict::OverLimit => {
            write.payment_state = Some(PaymentState::CreditNg);
            if !changed {
                d.order = Some(write);
                return d;
            }
            let reason = refusal_reason(provider, v, case.result, order.state);
            write.attention = Some(Attention::Set(reason.clone()));
            let reserved: u32 = order.lines.iter().map(|l| l.reserved_qty).sum();
            let release = policy.release_on_credit_ng && order.state.holds_stock() && reserved > 0;
            if release {
                d.stock.push(StockMove::ReleaseOrder);
            }
            d = d
                .event(
                    EventKind::credit_refusal(v).unwrap_or(EventKind::CreditNg),
                    json!({"provider": provider.as_str(), "was": case.result.as_str(),
                           "released": if release { reserved } else { 0 }}),
                )
                .event(EventKind::OrderAttention, json!({"reason": reason}));
        }
    }
    d.order = Some(write);
    d
}

/// The request's answer: the provider's reference is recorded, and an
/// order cancelled meanwhile is cancelled at the provider as well.
fn requested(
    order: &Order,
    provider: DeferredProvider,
    v: CreditVerdict,
    reference: &str,
    at_ms: i64,
    write: &mut OrderWrite,
) -> Decision {
    let mut d = Decision::default();
    write.payment = Some(crate::domain::order::PaymentRef {
        method: provider.into(),
        reference: Some(reference.to_string()),
        external_order_num: None,
    });
    if let Some(c) = write.credit.as_mut() {
        c.requested_at_ms = Some(at_ms);
    }
    d = d.event(
        EventKind::CreditRequested,
        json!({"provider": provider.as_str(), "reference": reference, "result": v.as_str()}),
    );
    // Cancelled while the request was on its way: undo it at the provider.
    if order.state == OrderState::Cancelled && !v.is_refusal() {
        d.calls.push(Call::CreditCancel {
            provider,
            channel: order.channel,
            order_id: order.id.clone(),
            reason: "the order was cancelled while its credit was requested".into(),
        });
    }
    d
}

/// How long a credit may stay under review before a person is asked to look
/// (the providers' guidance: alert after 24 hours).
pub const REVIEW_ALERT_MS: i64 = 24 * 60 * 60 * 1000;

/// The attention a poll raises for a credit still under review a day after
/// its request; once (an order already flagged keeps its reason).
fn review_overdue(
    provider: DeferredProvider,
    requested_at_ms: Option<i64>,
    source: &Source,
    order: &Order,
    now: &str,
) -> Option<String> {
    let requested = requested_at_ms?;
    let now_ms = chrono::DateTime::parse_from_rfc3339(now)
        .ok()?
        .timestamp_millis();
    let overdue = matches!(source, Source::Poll)
        && order.attention.is_none()
        && now_ms - requested >= REVIEW_ALERT_MS;
    overdue.then(|| {
        format!(
            "{0}の与信審査が24時間を超えて保留中です。問い合わせるか受注をキャンセルしてください / \
             {1} has had the credit check under review for more than 24 hours: ask them, or cancel the order",
            crate::wording::provider(crate::config::Language::Ja, provider.into()),
            provider.display_name()
        )
    })
}

/// A short reason a person can act on.
fn refusal_reason(
    provider: DeferredProvider,
    v: CreditVerdict,
    was: CreditVerdict,
    state: OrderState,
) -> String {
    let (what_ja, what) = match v {
        CreditVerdict::OverLimit => (
            "購入者の利用限度額超過",
            "the buyer's credit limit is exceeded",
        ),
        CreditVerdict::Ng | CreditVerdict::Ok | CreditVerdict::Pending => ("与信NG", "credit NG"),
    };
    let (when_ja, when) = if was == CreditVerdict::Ok {
        ("(一度は与信OK)", " after an earlier OK")
    } else {
        ("", "")
    };
    let (todo_ja, todo) = match state {
        OrderState::Shipped => (
            "荷物は出荷済みで、送り状番号は登録されていません。配送を止めるか、別の支払い方法をお願いしてください",
            "the parcel has already left and its tracking number was not registered: stop the delivery or ask the buyer to pay another way",
        ),
        OrderState::New
        | OrderState::Allocated
        | OrderState::Short
        | OrderState::Confirmed
        | OrderState::Cancelled => (
            "出荷しないでください。別の支払い方法をお願いするか、受注をキャンセルしてください",
            "do not ship; ask the buyer for another payment method or cancel the order",
        ),
    };
    let (name_ja, name) = (
        crate::wording::provider(crate::config::Language::Ja, provider.into()),
        provider.display_name(),
    );
    format!(
        "{name_ja}が後払いを断りました({what_ja}){when_ja}。{todo_ja} / \
         {name} refused the deferred payment ({what}){when}: {todo}"
    )
}

/// Why a deferred-payment order cannot ship now, if it cannot.
pub fn shipment_refusal(order: &Order) -> Option<String> {
    let (provider, case) = credit_of(order)?;
    (case.result != CreditVerdict::Ok).then(|| {
        format!(
            "the {} credit is {}; the order ships only once it is ok",
            provider.display_name(),
            case.result.as_str()
        )
    })
}

/// The call registering a parcel of a deferred-payment order.
pub fn ship_call(
    order: &Order,
    carrier: Carrier,
    tracking_no: &str,
    shipped_on: NaiveDate,
) -> Option<Call> {
    let (provider, case) = credit_of(order)?;
    if case
        .registered
        .as_ref()
        .is_some_and(|(_, t)| t == tracking_no)
    {
        return None;
    }
    Some(Call::CreditShip {
        provider,
        channel: order.channel,
        order_id: order.id.clone(),
        carrier,
        tracking_no: tracking_no.to_string(),
        shipped_on,
    })
}

/// The call cancelling a deferred-payment transaction, when there may be one
/// to cancel. A refused credit left nothing at the provider. A request with no
/// answer yet is dropped from the outbox with the order's other pending
/// calls, but an earlier attempt of it may have reached the provider before
/// a crash or a timeout: the cancel then looks the transaction up by the
/// merchant's order number and cancels what it finds.
pub fn cancel_call(order: &Order, reason: &str) -> Option<Call> {
    let (provider, case) = credit_of(order)?;
    let ended = case.transaction.is_some_and(Transaction::is_final);
    (!case.result.is_refusal() && !ended).then(|| Call::CreditCancel {
        provider,
        channel: order.channel,
        order_id: order.id.clone(),
        reason: reason.to_string(),
    })
}

/// The provider has the parcel's tracking number.
pub fn shipment_registered(
    order: &Order,
    carrier: &str,
    tracking_no: &str,
    already: bool,
) -> Decision {
    let Some((provider, _)) = credit_of(order) else {
        return Decision::default();
    };
    Decision {
        order: Some(OrderWrite {
            credit: Some(CreditWrite {
                registered: Some((carrier.to_string(), tracking_no.to_string())),
                transaction: Some(Transaction::ShipmentRegistered),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(
        EventKind::CreditShipmentRegistered,
        json!({"provider": provider.as_str(), "carrier": carrier, "tracking_no": tracking_no,
               "already_registered": already}),
    )
}

/// Where the transaction stands now (the poller follows shipped orders).
pub fn progress(order: &Order, t: Transaction) -> Decision {
    let Some((provider, case)) = credit_of(order) else {
        return Decision::default();
    };
    if case.transaction == Some(t) {
        return Decision::default();
    }
    let mut write = OrderWrite {
        credit: Some(CreditWrite {
            transaction: Some(t),
            ..Default::default()
        }),
        ..Default::default()
    };
    let attention = match t {
        Transaction::Paid => {
            write.payment_state = Some(PaymentState::Paid);
            None
        }
        Transaction::NeedsInvestigation => Some(format!(
            "{0}が配送の調査を求めています。配送会社に荷物を確認してください / \
             {1} says the delivery needs investigation: check the parcel with the carrier",
            crate::wording::provider(crate::config::Language::Ja, provider.into()),
            provider.display_name()
        )),
        // Not paid: the order stays unpaid, told to the merchant.
        Transaction::ClosedUnpaid => Some(format!(
            "{0}が入金のないまま取引をクローズしました(立替精算戻し・貸倒れなど)。この受注は\
             入金されていません。加盟店画面で確認してください / \
             {1} closed the transaction without the buyer's payment (advance taken back, bad \
             debt): the order is not paid; check it on the merchant page",
            crate::wording::provider(crate::config::Language::Ja, provider.into()),
            provider.display_name()
        )),
        Transaction::Unknown => Some(format!(
            "{0}が未知の取引状態を返しました。加盟店画面で確認してください / \
             {1} reports a transaction status this daemon does not know: check it on the merchant page",
            crate::wording::provider(crate::config::Language::Ja, provider.into()),
            provider.display_name()
        )),
        Transaction::Cancelled if order.state != OrderState::Cancelled => Some(format!(
            "{0}が取引をキャンセルしましたが、この受注はキャンセルされていません。確認してください / \
             {1} cancelled the transaction of an order that is not cancelled here",
            crate::wording::provider(crate::config::Language::Ja, provider.into()),
            provider.display_name()
        )),
        Transaction::Cancelled
        | Transaction::Approved
        | Transaction::ShipmentRegistered
        | Transaction::SalesConfirmed
        | Transaction::Invoiced => None,
    };
    let mut d = Decision::default().event(
        EventKind::credit_progress(t),
        json!({"provider": provider.as_str(), "was": case.transaction.map(Transaction::as_str)}),
    );
    if let Some(reason) = attention {
        write.attention = Some(Attention::Set(reason.clone()));
        d = d.event(EventKind::OrderAttention, json!({"reason": reason}));
    }
    d.order = Some(write);
    d
}

/// The provider cancelled the transaction (or never had it).
pub fn cancelled_at_provider(order: &Order, found: bool) -> Decision {
    let Some((provider, _)) = credit_of(order) else {
        return Decision::default();
    };
    Decision {
        order: Some(OrderWrite {
            credit: Some(CreditWrite {
                transaction: Some(Transaction::Cancelled),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(
        EventKind::CreditCancelled,
        json!({"provider": provider.as_str(), "found": found}),
    )
}

/// The credit application of an order, from its lines and the registration
/// as received (`customer`, `ship_to`, `shipping_fee`, `fee`, `ordered_at`).
pub fn application(
    order: &Order,
    detail: &Value,
    attempt: u32,
) -> Result<CreditApplication, String> {
    let party = |key: &str| -> Result<Option<Party>, String> {
        match detail.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| format!("{key}: {e}")),
        }
    };
    let buyer = party("customer")?.ok_or("the order has no customer to bill")?;
    // A gift is a parcel to someone else, never a recipient without the
    // buyer's e-mail (see `Party::same_destination`).
    let ship_to = party("ship_to")?.filter(|p| !p.same_destination(&buyer));
    let ordered_on = detail
        .get("ordered_at")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&crate::domain::time::jst()).date_naive())
        .or_else(|| NaiveDate::parse_from_str(order.created_at.get(..10)?, "%Y-%m-%d").ok())
        .ok_or("the order has no order date")?;
    let yen = |key: &str| detail.get(key).and_then(Value::as_i64).unwrap_or(0);
    let lines = order
        .lines
        .iter()
        .map(|l| {
            Ok(BilledLine {
                name: if l.name.trim().is_empty() {
                    l.sku.clone()
                } else {
                    l.name.clone()
                },
                qty: l.qty,
                unit_price: l
                    .unit_price
                    .ok_or_else(|| format!("line {} has no unit price", l.line_no))?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(CreditApplication {
        order_id: order.id.clone(),
        attempt,
        ordered_on,
        buyer,
        ship_to,
        lines,
        shipping_fee: yen("shipping_fee"),
        fee: yen("fee"),
    })
}

#[cfg(test)]
mod tests;
