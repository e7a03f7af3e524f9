//! Registering an order of the merchant's own shop.

use std::collections::HashMap;

use serde_json::json;

use super::reserve::{Demand, Reservation};
use super::{Attention, Call, Decision, LineWrite, OrderWrite};
use crate::domain::direct::{DirectOrder, DirectPayment};
use crate::domain::order::PaymentRef;
use crate::domain::{Channel, Order, OrderState, PaymentState};
use crate::engine::EventKind;

/// What a registration does.
#[derive(Debug, Clone, PartialEq)]
pub enum Registration {
    /// A new order: write this.
    Created(Box<Decision>),
    /// The same registration again: nothing to do (200).
    Same,
    /// The id is taken by different content (409).
    Conflict,
}

/// Decides a registration. `existing` is the stored order with its digest;
/// `available` the free units of the order's SKUs (used when `allocate`).
pub fn register(
    o: &DirectOrder,
    digest: &str,
    existing: Option<(&Order, Option<&str>)>,
    available: &HashMap<String, u32>,
) -> Registration {
    if let Some((_, stored_digest)) = existing {
        return if stored_digest == Some(digest) {
            Registration::Same
        } else {
            Registration::Conflict
        };
    }
    let Reservation { full, moves, .. } = reserve(o, available);
    // Paid on the merchant's own terms: ready at once. KOMOJU: ready once the
    // payment is authorized (a webhook says so).
    let (state, payment_state) = match (&o.payment, full) {
        (_, false) => (OrderState::Short, payment_state_of(&o.payment)),
        (DirectPayment::None, true) => (OrderState::Confirmed, PaymentState::Unpaid),
        (p, true) if o.allocate => (OrderState::Allocated, payment_state_of(p)),
        (p, true) => (OrderState::New, payment_state_of(p)),
    };
    let (reference, external) = match &o.payment {
        DirectPayment::Komoju {
            payment_id,
            external_order_num,
        } => (payment_id.clone(), external_order_num.clone()),
        DirectPayment::None | DirectPayment::Kuroneko | DirectPayment::AtobaraiCom => (None, None),
    };
    let detail = json!({
        "ordered_at": o.ordered_at, "customer": o.customer, "ship_to": o.ship_to,
        "shipping_fee": o.shipping_fee, "fee": o.fee, "total": o.total(),
    });
    // A short order is not shippable; stock that arrives later tops it up
    // (oldest first, see `restock`), or the merchant cancels it.
    let reason = (!full).then(super::restock::direct_short_reason);
    let mut d = Decision {
        order: Some(OrderWrite {
            state: Some(state),
            payment_state: Some(payment_state),
            attention: reason.clone().map(Attention::Set),
            lines: Some(line_writes(o)),
            ship_to: Some(
                serde_json::to_value(o.ship_to.as_ref().unwrap_or(&o.customer)).unwrap_or_default(),
            ),
            payment: Some(PaymentRef {
                method: o.payment.method(),
                reference,
                external_order_num: external,
            }),
            registration: Some((detail, digest.to_string())),
            ..Default::default()
        }),
        stock: moves,
        ..Default::default()
    }
    .event(
        EventKind::OrderRegistered,
        json!({"payment": o.payment.method().as_str(), "total": o.total(), "allocate": o.allocate}),
    );
    if let Some(reason) = reason {
        d = d.event(EventKind::OrderAttention, json!({"reason": reason}));
    }
    // KOMOJU may have told its news before the order existed (a konbini slip
    // is `authorized` at the checkout): read the payment once registered.
    if let DirectPayment::Komoju {
        payment_id: Some(id),
        ..
    } = &o.payment
    {
        d.calls.push(Call::KomojuFetch {
            payment_id: id.clone(),
        });
    }
    // Deferred payment: the credit request goes out through the outbox.
    if let Some(p) = o.payment.deferred_provider() {
        let (check, call) = crate::engine::credit::start(Channel::Direct, &o.id, p);
        if let Some(w) = d.order.as_mut() {
            w.credit = Some(check);
        }
        d.calls.push(call);
    }
    Registration::Created(Box::new(d))
}

/// What the order reserves: its lines allocated when `allocate`, nothing
/// (and no line short) otherwise.
fn reserve(o: &DirectOrder, available: &HashMap<String, u32>) -> Reservation {
    if !o.allocate {
        return Reservation {
            reserved: vec![0; o.lines.len()],
            full: true,
            moves: vec![],
        };
    }
    let lines: Vec<Demand> = (o.lines.iter())
        .map(|l| Demand {
            line_no: l.line_no,
            sku: &l.sku,
            qty: l.qty,
        })
        .collect();
    super::reserve::reserve(&lines, available)
}

/// The order's lines as written.
fn line_writes(o: &DirectOrder) -> Vec<LineWrite> {
    o.lines
        .iter()
        .map(|l| LineWrite {
            line_no: l.line_no,
            sku: l.sku.clone(),
            name: l.name.clone(),
            qty: l.qty,
            unit_price: Some(l.unit_price),
        })
        .collect()
}

fn payment_state_of(p: &DirectPayment) -> PaymentState {
    match p {
        DirectPayment::None => PaymentState::Unpaid,
        DirectPayment::Kuroneko | DirectPayment::AtobaraiCom => PaymentState::CreditPending,
        DirectPayment::Komoju { .. } => PaymentState::Pending,
    }
}
