//! Stock that arrives goes first to the orders already waiting for it.
//!
//! A Rakuten order has no partial-allocation protocol and is cancelled by
//! Rakuten 14 days after it was placed unless it is confirmed, which needs all
//! of its stock; a direct order of the merchant's shop is not shipped short.
//! So when units become free (a stock count, a cancellation, a smaller order)
//! they top up the short Rakuten and direct orders still waiting, oldest
//! first, in the transaction that freed them, before any newer order can take
//! them. J-goods short orders are the customer's decision (返答待ち) and are
//! left alone.

use std::collections::HashMap;

use serde_json::json;

use super::{Attention, Decision, OrderWrite, StockMove};
use crate::domain::{Channel, Order, OrderState, PaymentState};
use crate::engine::EventKind;

/// Every short-of-stock attention starts with this, so that a top-up that
/// completes the order knows the attention was about the stock and clears it.
pub const SHORT_PREFIX: &str = "在庫不足";

/// The attention of a direct order not fully allocated.
pub fn direct_short_reason() -> String {
    format!(
        "{SHORT_PREFIX}: 全明細の在庫を確保できていません。入荷すると古い注文から順に自動で引き当てます。\
         待てない場合は注文をキャンセルしてください / not enough stock for every line: stock \
         that arrives tops it up, oldest order first; cancel the order if it cannot wait"
    )
}

/// Whether `order` waits for stock a restock may give it.
pub fn waits_for_stock(order: &Order) -> bool {
    let channel_waits = match order.channel {
        Channel::Rakuten | Channel::Yahoo | Channel::Direct => true,
        // The customer decides at 返答待ち; J-goods does not take a late top-up.
        Channel::Jgoods => false,
    };
    let payment_lost = matches!(
        order.payment_state,
        PaymentState::CreditNg | PaymentState::Refunded
    );
    channel_waits && order.state == OrderState::Short && !payment_lost
}

/// Tops up `order` from `free` (units of each SKU nobody holds), taking what
/// it uses out of `free`. `None` when it gets nothing.
pub fn top_up(order: &Order, free: &mut HashMap<String, u32>) -> Option<Decision> {
    if !waits_for_stock(order) {
        return None;
    }
    let mut stock = vec![];
    let mut full = true;
    let mut lines = vec![];
    for line in &order.lines {
        let missing = line.qty.saturating_sub(line.reserved_qty);
        let take = free.get_mut(&line.sku).map_or(0, |f| {
            let take = missing.min(*f);
            *f -= take;
            take
        });
        if take > 0 {
            stock.push(StockMove::Reserve {
                line_no: line.line_no,
                sku: line.sku.clone(),
                qty: take,
            });
            lines.push(json!({"line_no": line.line_no, "sku": line.sku, "qty": take}));
        }
        full &= take == missing;
    }
    if stock.is_empty() {
        return None;
    }
    let mut write = OrderWrite::default();
    if full {
        write.state = Some(full_state(order));
        if order
            .attention
            .as_deref()
            .is_some_and(|a| a.starts_with(SHORT_PREFIX))
        {
            write.attention = Some(Attention::Clear);
        }
    }
    let d = Decision {
        order: Some(write),
        stock,
        ..Default::default()
    }
    .event(
        EventKind::OrderToppedUp,
        json!({"lines": lines, "complete": full}),
    );
    Some(if full {
        d.event(EventKind::OrderAllocated, json!({"by": "restock"}))
    } else {
        d
    })
}

/// The state of a waiting order once all of its stock is held.
fn full_state(order: &Order) -> OrderState {
    match order.channel {
        // At 100 the poller confirms it next; past 100 Rakuten already has.
        Channel::Rakuten if order.provider_status.as_deref() == Some("100") => {
            OrderState::Allocated
        }
        Channel::Rakuten => OrderState::Confirmed,
        // The poller marks it seen (処理中) next, then it is confirmed.
        Channel::Yahoo => OrderState::Allocated,
        // A direct order is ready to ship once its payment allows it.
        _ => match order.payment_state {
            PaymentState::Unpaid
            | PaymentState::CreditOk
            | PaymentState::Authorized
            | PaymentState::Captured
            | PaymentState::Paid => OrderState::Confirmed,
            PaymentState::Deferred
            | PaymentState::Pending
            | PaymentState::CreditPending
            | PaymentState::CreditNg
            | PaymentState::Refunded => OrderState::Allocated,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderLine;

    fn order(channel: Channel, status: &str, lines: &[(&str, u32, u32)]) -> Order {
        Order {
            channel,
            id: "O-1".into(),
            state: OrderState::Short,
            payment_state: PaymentState::Pending,
            attention: Some(format!("{SHORT_PREFIX}: …")),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, qty, reserved))| OrderLine {
                    line_no: i as u32 + 1,
                    sku: sku.to_string(),
                    name: String::new(),
                    qty: *qty,
                    unit_price: None,
                    reserved_qty: *reserved,
                })
                .collect(),
            shipments: vec![],
            payment: None,
            credit: None,
            provider_status: Some(status.into()),
            status_changed_at: None,
            pending_calls: 0,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn free(units: &[(&str, u32)]) -> HashMap<String, u32> {
        units.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn a_complete_top_up_allocates_and_clears_the_stock_attention() {
        let o = order(Channel::Rakuten, "100", &[("A", 3, 1), ("B", 1, 1)]);
        let mut units = free(&[("A", 5)]);
        let d = top_up(&o, &mut units).expect("topped up");
        assert_eq!(units["A"], 3);
        assert_eq!(
            d.stock,
            vec![StockMove::Reserve {
                line_no: 1,
                sku: "A".into(),
                qty: 2
            }]
        );
        let w = d.order.unwrap();
        assert_eq!(w.state, Some(OrderState::Allocated));
        assert_eq!(w.attention, Some(Attention::Clear));
        // Past 100 Rakuten confirmed it already.
        let later = order(Channel::Rakuten, "300", &[("A", 1, 0)]);
        let w = top_up(&later, &mut units).unwrap().order.unwrap();
        assert_eq!(w.state, Some(OrderState::Confirmed));
    }

    #[test]
    fn a_partial_top_up_keeps_the_order_short_and_its_attention() {
        let o = order(Channel::Direct, "", &[("A", 4, 0)]);
        let mut units = free(&[("A", 3)]);
        let d = top_up(&o, &mut units).unwrap();
        assert_eq!(units["A"], 0);
        let w = d.order.unwrap();
        assert_eq!((w.state, w.attention), (None, None));
        assert!(top_up(&o, &mut units).is_none(), "nothing left to give");
    }

    #[test]
    fn jgoods_lost_payments_and_other_attentions_are_left_alone() {
        let mut units = free(&[("A", 9)]);
        let jgoods = order(Channel::Jgoods, "承認待ち", &[("A", 1, 0)]);
        assert!(top_up(&jgoods, &mut units).is_none());
        let mut ng = order(Channel::Direct, "", &[("A", 1, 0)]);
        ng.payment_state = PaymentState::CreditNg;
        assert!(top_up(&ng, &mut units).is_none());
        let mut other = order(Channel::Direct, "", &[("A", 1, 0)]);
        other.attention = Some("something else".into());
        other.payment_state = PaymentState::CreditOk;
        let w = top_up(&other, &mut units).unwrap().order.unwrap();
        assert_eq!(w.state, Some(OrderState::Confirmed));
        assert_eq!(w.attention, None, "an attention about something else stays");
    }
}
