//! Decisions for the ERP's commands on an order: ship it, cancel it.

use serde_json::json;

use super::{Call, Decision, OrderWrite, StockMove};
use crate::domain::carrier::Carrier;
use crate::domain::order::PaymentMethod;
use crate::domain::{Channel, Order, OrderState, PaymentState, Shipment};
use crate::engine::EventKind;

/// A parcel the ERP sent, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRequest {
    pub carrier: Carrier,
    pub tracking_no: String,
    /// `YYYY-MM-DD`.
    pub shipped_on: chrono::NaiveDate,
    /// Yen, tax included: the domestic shipping the merchant may invoice (J-goods).
    pub shipping_cost: Option<i64>,
}

/// Why a command cannot be applied to the order as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the order is {0}; only a confirmed order can be shipped")]
    NotShippable(&'static str),
    #[error("the order was shipped; it can no longer be cancelled")]
    AlreadyShipped,
    #[error("{0} orders are cancelled by {0} itself; this daemon follows its cancellation")]
    CancelledByChannel(&'static str),
    #[error("the payment is {0}; the order ships once it is paid (a card: once it is authorized)")]
    PaymentNotReady(&'static str),
    /// A deferred-payment order whose credit is not OK.
    #[error("{0}")]
    CreditNotOk(String),
}

/// How the merchant wants payments handled around shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaymentPolicy {
    /// Capture an authorized KOMOJU payment when the order ships.
    pub capture_on_ship: bool,
}

/// The KOMOJU payment id of an order, when it is paid through KOMOJU.
fn komoju_payment(order: &Order) -> Option<&str> {
    order
        .payment
        .as_ref()
        .filter(|p| p.method == PaymentMethod::Komoju)
        .and_then(|p| p.reference.as_deref())
}

/// What a shipment command means for the order.
pub fn ship(
    order: &Order,
    req: &ShipmentRequest,
    policy: PaymentPolicy,
) -> Result<Decision, Refusal> {
    if order
        .shipments
        .iter()
        .any(|s| s.tracking_no == req.tracking_no && s.carrier == req.carrier)
    {
        // The ERP sent the same parcel again (a retry): nothing new.
        return Ok(Decision::default());
    }
    let first = match order.state {
        OrderState::Confirmed => true,
        // Another parcel of an order already shipped.
        OrderState::Shipped => false,
        other => return Err(Refusal::NotShippable(other.as_str())),
    };
    let shipment = Shipment {
        carrier: req.carrier,
        tracking_no: req.tracking_no.clone(),
        shipped_on: req.shipped_on,
        shipping_cost: req.shipping_cost,
    };
    let detail = json!({
        "carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
        "shipped_on": shipment.shipped_on, "shipping_cost": shipment.shipping_cost,
    });
    let paid_by_komoju = order
        .payment
        .as_ref()
        .is_some_and(|p| p.method == PaymentMethod::Komoju);
    if paid_by_komoju
        && first
        && !matches!(
            order.payment_state,
            PaymentState::Authorized | PaymentState::Captured
        )
    {
        return Err(Refusal::PaymentNotReady(order.payment_state.as_str()));
    }
    if let Some(reason) = crate::engine::credit::shipment_refusal(order) {
        return Err(Refusal::CreditNotOk(reason));
    }
    let calls = shipment_calls(order, &shipment, first, policy);
    Ok(Decision {
        order: Some(OrderWrite {
            state: Some(OrderState::Shipped),
            add_shipment: Some(shipment),
            ..Default::default()
        }),
        stock: if first {
            vec![StockMove::ShipOrder]
        } else {
            vec![]
        },
        calls,
        ..Default::default()
    }
    .event(EventKind::OrderShipped, detail))
}

/// Each channel and payment provider that must hear of the parcel gets its call.
fn shipment_calls(
    order: &Order,
    shipment: &Shipment,
    first: bool,
    policy: PaymentPolicy,
) -> Vec<Call> {
    let mut calls = match order.channel {
        Channel::Rakuten => vec![Call::RakutenShip {
            order_number: order.id.clone(),
            carrier: shipment.carrier,
            tracking_no: shipment.tracking_no.clone(),
            shipped_on: shipment.shipped_on,
        }],
        Channel::Yahoo => vec![Call::YahooShip {
            order_id: order.id.clone(),
            carrier: shipment.carrier,
            tracking_no: shipment.tracking_no.clone(),
            shipped_on: shipment.shipped_on,
        }],
        // J-goods' API has no shipment report: the parcel goes to its warehouse.
        Channel::Jgoods | Channel::Direct => vec![],
    };
    if first
        && policy.capture_on_ship
        && order.payment_state == PaymentState::Authorized
        && let Some(id) = komoju_payment(order)
    {
        calls.push(Call::KomojuCapture {
            payment_id: id.to_string(),
        });
    }
    calls.extend(crate::engine::credit::ship_call(
        order,
        shipment.carrier,
        &shipment.tracking_no,
        shipment.shipped_on,
    ));
    calls
}

/// Whether the merchant may cancel the order here ([`cancel`] would not
/// refuse it): the console offers the button only then.
pub fn merchant_can_cancel(order: &Order) -> bool {
    match order.state {
        OrderState::Cancelled => false,
        OrderState::Shipped if order.credit.is_none() => false,
        _ => order.channel != Channel::Jgoods,
    }
}

/// What a cancel command means for the order.
pub fn cancel(order: &Order, reason: &str) -> Result<Decision, Refusal> {
    match order.state {
        OrderState::Cancelled => return Ok(Decision::default()),
        // A deferred-payment transaction can still be cancelled after
        // shipment (returned goods), until the buyer has paid.
        OrderState::Shipped if order.credit.is_none() => return Err(Refusal::AlreadyShipped),
        _ => {}
    }
    if order.channel == Channel::Jgoods {
        // J-goods' order API cannot cancel; J-goods tells us with 注文取消.
        return Err(Refusal::CancelledByChannel("J-goods"));
    }
    // Shipped units are gone; only an unshipped order has stock to give back.
    let released: u32 = if order.state == OrderState::Shipped {
        0
    } else {
        order.reserved_units()
    };
    // Money goes back the way it came: an uncaptured payment is cancelled, a
    // captured one refunded in full.
    let calls = match (komoju_payment(order), order.payment_state) {
        (Some(id), PaymentState::Pending | PaymentState::Authorized) => {
            vec![Call::KomojuCancel {
                payment_id: id.to_string(),
            }]
        }
        (Some(id), PaymentState::Captured) => vec![Call::KomojuRefund {
            payment_id: id.to_string(),
        }],
        _ => vec![],
    };
    let calls: Vec<Call> = calls
        .into_iter()
        .chain(crate::engine::credit::cancel_call(order, reason))
        .collect();
    Ok(Decision {
        calls,
        ..Decision::cancel(released, OrderWrite::default())
    }
    .event(
        EventKind::OrderCancelled,
        json!({"by": "merchant", "reason": reason, "released": released}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderLine, PaymentState};

    fn order(channel: Channel, state: OrderState) -> Order {
        Order {
            channel,
            id: "X1".into(),
            state,
            payment_state: PaymentState::Deferred,
            attention: None,
            lines: vec![OrderLine {
                line_no: 1,
                sku: "A".into(),
                name: String::new(),
                qty: 2,
                reserved_qty: 2,
                unit_price: None,
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

    fn parcel(no: &str) -> ShipmentRequest {
        ShipmentRequest {
            carrier: Carrier::Yamato,
            tracking_no: no.into(),
            shipped_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            shipping_cost: Some(1200),
        }
    }

    #[test]
    fn shipping_a_confirmed_order_moves_its_stock_once() {
        let o = order(Channel::Jgoods, OrderState::Confirmed);
        let d = ship(&o, &parcel("123456789012"), PaymentPolicy::default()).unwrap();
        assert_eq!(d.stock, vec![StockMove::ShipOrder]);
        assert_eq!(d.order.as_ref().unwrap().state, Some(OrderState::Shipped));
        let mut shipped = order(Channel::Jgoods, OrderState::Shipped);
        shipped
            .shipments
            .push(d.order.unwrap().add_shipment.unwrap());
        assert_eq!(
            ship(&shipped, &parcel("123456789012"), PaymentPolicy::default()).unwrap(),
            Decision::default()
        );
        let second = ship(&shipped, &parcel("999"), PaymentPolicy::default()).unwrap();
        assert!(second.stock.is_empty());
        assert!(second.order.unwrap().add_shipment.is_some());
    }

    #[test]
    fn only_confirmed_orders_ship() {
        for st in [
            OrderState::New,
            OrderState::Allocated,
            OrderState::Short,
            OrderState::Cancelled,
        ] {
            assert_eq!(
                ship(
                    &order(Channel::Jgoods, st),
                    &parcel("1"),
                    PaymentPolicy::default()
                ),
                Err(Refusal::NotShippable(st.as_str()))
            );
        }
    }

    #[test]
    fn cancelling_releases_stock_except_where_the_channel_decides() {
        let d = cancel(
            &order(Channel::Direct, OrderState::Confirmed),
            "customer called",
        )
        .unwrap();
        assert_eq!(d.stock, vec![StockMove::ReleaseOrder]);
        assert!(d.cancel_pending_calls);
        assert_eq!(
            cancel(&order(Channel::Direct, OrderState::Shipped), ""),
            Err(Refusal::AlreadyShipped)
        );
        assert_eq!(
            cancel(&order(Channel::Jgoods, OrderState::Confirmed), ""),
            Err(Refusal::CancelledByChannel("J-goods"))
        );
        assert_eq!(
            cancel(&order(Channel::Direct, OrderState::Cancelled), "").unwrap(),
            Decision::default()
        );
    }
}
