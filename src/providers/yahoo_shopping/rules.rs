//! Decisions for Yahoo!ショッピング orders (contract, "What the daemon does"):
//! - a new order at 1, 2 or 3 is taken in and its stock held at once, even
//!   inside the buyer's 10-minute cancel window (`IsReadOnly=1`), so no
//!   other channel sells it meanwhile; the ERP hears of it (`order.imported`)
//!   only once it is out of that window and, prepaid, paid (`ShipStatus ≥ 1`);
//!   until then `order.held`;
//! - an order fully held is marked seen (処理中) by an outbox call, outside
//!   the cancel window ([`super::apply::owe_mark_seen`]); one Yahoo! already
//!   shows as seen is confirmed as it is;
//! - `4` releases the stock; a line whose `Quantity` changed is re-held by
//!   `LineId`; `PayStatus 1` is paid (Yahoo!-handled methods update it
//!   themselves, the store's own ones by the store).
//!
//! A line's stock key is `ItemId` or `ItemId:SubCode`: the merchant's SKU.

use std::collections::HashMap;

use serde_json::json;

use super::{STATUS_CANCELLED, YahooOrder};
use crate::domain::{Order, OrderState, PaymentState};
use crate::engine::reserve::{Demand, Reservation, reserve};
use crate::engine::restock::SHORT_PREFIX;
use crate::engine::{Attention, Decision, EventKind, LineWrite, OrderWrite, StockMove};

/// What the store keeps of an order beside its row (`yahoo_orders`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// Inside the cancel window at the last read.
    pub read_only: bool,
    /// `IsSeen` at the last read, or marked by us.
    pub seen: bool,
    /// The ERP was told.
    pub announced: bool,
}

/// A decision and what to keep of the order.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// What the order, the stock and the feed get.
    pub decision: Decision,
    /// `None`: the order is not the store's (not taken in).
    pub seen: Option<Seen>,
}

/// The short reason shown on an order that could not be held in full.
pub fn short_reason() -> String {
    format!(
        "{SHORT_PREFIX}: 全明細の在庫を確保できていません。入荷すると自動で引き当て、処理中にします。\
         待てない場合はストアクリエイターProでお客様と相談してください / not enough stock: stock \
         that arrives is allocated to it and it is marked seen; or settle it with the buyer"
    )
}

/// The lines as the core stores them, numbered by `LineId`.
pub fn lines_of(order: &YahooOrder) -> Vec<LineWrite> {
    order
        .lines
        .iter()
        .map(|l| LineWrite {
            line_no: l.line_id,
            sku: l.sku(),
            name: l.title.clone(),
            qty: l.quantity,
            unit_price: Some(l.unit_price),
        })
        .collect()
}

/// Decides what an order read from Yahoo! means for the stored one.
pub fn decide(
    order: &YahooOrder,
    stored: Option<(&Order, Seen)>,
    available: &HashMap<String, u32>,
) -> Outcome {
    match stored {
        None if matches!(order.status, 1..=3) => import(order, available),
        None => Outcome::default(),
        Some((o, seen)) => follow(order, o, seen, available),
    }
}

fn status_write(order: &YahooOrder) -> OrderWrite {
    OrderWrite {
        provider_status: Some(order.status.to_string()),
        ordered_at: Some(crate::domain::time::rfc3339(order.ordered_at)),
        ..Default::default()
    }
}

fn import(order: &YahooOrder, available: &HashMap<String, u32>) -> Outcome {
    let lines = lines_of(order);
    let demand: Vec<Demand> = lines
        .iter()
        .map(|l| Demand {
            line_no: l.line_no,
            sku: &l.sku,
            qty: l.qty,
        })
        .collect();
    let Reservation {
        reserved,
        full,
        moves,
    } = reserve(&demand, available);
    let state = match (full, order.is_seen) {
        (false, _) => OrderState::Short,
        (true, true) => OrderState::Confirmed,
        (true, false) => OrderState::Allocated,
    };
    let paid = order.pay_status == 1;
    let announced = order.shippable();
    let detail = json!({
        "order_status": order.status,
        "read_only": order.read_only,
        "lines": lines.iter().zip(&reserved).map(|(l, r)| json!({
            "line_no": l.line_no, "sku": l.sku, "qty": l.qty, "reserved_qty": r,
        })).collect::<Vec<_>>(),
    });
    let attention = (!full).then(short_reason);
    let s = &order.ship_to;
    let d = Decision {
        order: Some(OrderWrite {
            state: Some(state),
            payment_state: Some(if paid {
                PaymentState::Paid
            } else {
                PaymentState::Pending
            }),
            attention: attention.clone().map(Attention::Set),
            lines: Some(lines),
            ship_to: Some(json!({"name": s.name, "postal_code": s.postal_code,
                                  "address": s.address, "phone": s.phone})),
            ..status_write(order)
        }),
        stock: moves,
        ..Default::default()
    }
    .first_reservation_events(announced, full, detail, attention, paid.then_some("yahoo"));
    Outcome {
        decision: d,
        seen: Some(Seen {
            read_only: order.read_only,
            seen: order.is_seen,
            announced,
        }),
    }
}

fn follow(order: &YahooOrder, o: &Order, seen: Seen, available: &HashMap<String, u32>) -> Outcome {
    let now_seen = Seen {
        read_only: order.read_only,
        seen: seen.seen || order.is_seen,
        announced: seen.announced || order.shippable(),
    };
    if order.status == STATUS_CANCELLED {
        let d = match o.state {
            OrderState::Cancelled => Decision::default(),
            OrderState::Shipped => with_attention(
                status_write(order),
                "出荷済みの受注がYahoo!でキャンセルされました。返品と返金を確認してください / \
                 Yahoo! cancelled an order already shipped",
            ),
            _ => {
                let released = o.reserved_units();
                Decision::cancel(released, status_write(order)).event(
                    EventKind::OrderCancelled,
                    json!({"by": "yahoo", "released": released}),
                )
            }
        };
        return Outcome {
            decision: d,
            seen: Some(now_seen),
        };
    }
    let mut write = status_write(order);
    let mut d = Decision::default();
    let mut events = vec![];
    if o.state.holds_stock() && lines_differ(order, o) {
        let (lines, stock, full) = relines(order, o, available);
        write.lines = Some(lines);
        d.stock = stock;
        write.state = match (o.state, full) {
            (OrderState::Short, true) => Some(OrderState::Allocated),
            (OrderState::Allocated | OrderState::Confirmed, false) => Some(OrderState::Short),
            _ => None,
        };
        if full
            && o.attention
                .as_deref()
                .is_some_and(|a| a.starts_with(SHORT_PREFIX))
        {
            write.attention = Some(Attention::Clear);
        }
        events.push((EventKind::OrderChanged, json!({"full": full})));
    }
    if now_seen.announced && !seen.announced {
        events.push((
            EventKind::OrderImported,
            json!({"order_status": order.status}),
        ));
    }
    if order.pay_status == 1 && o.payment_state == PaymentState::Pending {
        write.payment_state = Some(PaymentState::Paid);
        events.push((EventKind::OrderPaid, json!({"by": "yahoo"})));
    }
    if order.is_seen && write.state.unwrap_or(o.state) == OrderState::Allocated {
        write.state = Some(OrderState::Confirmed);
        events.push((EventKind::OrderConfirmed, json!({"by": "yahoo"})));
    }
    if events.is_empty() && o.provider_status.as_deref() == write.provider_status.as_deref() {
        return Outcome {
            decision: Decision::default(),
            seen: Some(now_seen),
        };
    }
    d.order = Some(write);
    for (kind, detail) in events {
        d = d.event(kind, detail);
    }
    Outcome {
        decision: d,
        seen: Some(now_seen),
    }
}

fn lines_differ(order: &YahooOrder, o: &Order) -> bool {
    let now = lines_of(order);
    now.len() != o.lines.len()
        || now.iter().any(|l| {
            o.line(l.line_no)
                .is_none_or(|old| old.qty != l.qty || old.sku != l.sku)
        })
}

/// Yahoo!'s lines now, holding or giving back the difference per `LineId`
/// (a line gone keeps its number with quantity 0). Returns the lines, the
/// moves, and whether all of it is held.
fn relines(
    order: &YahooOrder,
    o: &Order,
    available: &HashMap<String, u32>,
) -> (Vec<LineWrite>, Vec<StockMove>, bool) {
    let mut lines = lines_of(order);
    for old in &o.lines {
        if !lines.iter().any(|l| l.line_no == old.line_no) {
            lines.push(LineWrite {
                line_no: old.line_no,
                sku: old.sku.clone(),
                name: old.name.clone(),
                qty: 0,
                unit_price: old.unit_price,
            });
        }
    }
    let mut free = available.clone();
    let mut stock = vec![];
    let mut full = true;
    for new in &lines {
        let (held, same) = o
            .line(new.line_no)
            .map_or((0, true), |old| (old.reserved_qty, old.sku == new.sku));
        let keep = if same { held.min(new.qty) } else { 0 };
        if held > keep {
            stock.push(StockMove::ReleaseLine {
                line_no: new.line_no,
                qty: held - keep,
            });
        }
        let f = free.entry(new.sku.clone()).or_insert(0);
        let take = new.qty.saturating_sub(keep).min(*f);
        *f -= take;
        if take > 0 {
            stock.push(StockMove::Reserve {
                line_no: new.line_no,
                sku: new.sku.clone(),
                qty: take,
            });
        }
        full &= keep + take == new.qty;
    }
    (lines, stock, full)
}

fn with_attention(write: OrderWrite, reason: &str) -> Decision {
    Decision {
        order: Some(OrderWrite {
            attention: Some(Attention::Set(reason.to_string())),
            ..write
        }),
        ..Default::default()
    }
    .event(EventKind::OrderAttention, json!({"reason": reason}))
}

/// What Yahoo!'s answer to marking an order seen means for it.
pub fn decide_marked_seen(o: &Order) -> Decision {
    if o.state != OrderState::Allocated {
        return Decision::default();
    }
    Decision {
        order: Some(OrderWrite {
            state: Some(OrderState::Confirmed),
            ..Default::default()
        }),
        ..Default::default()
    }
    .event(EventKind::OrderConfirmed, json!({"by": "ordersync"}))
}

#[cfg(test)]
mod tests;
