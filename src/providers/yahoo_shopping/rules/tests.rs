use super::*;
use crate::providers::yahoo_shopping::{Line, ShipTo};

fn order(status: u8, read_only: bool, qty: u32) -> YahooOrder {
    YahooOrder {
        order_id: "shop-1".into(),
        status,
        is_seen: false,
        read_only,
        ordered_at: chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+09:00").unwrap(),
        listed: "1|2026-12-01T10:00:00+09:00|0|2|0|1".into(),
        pay_status: 0,
        pay_type: 0,
        ship_status: 1,
        lines: vec![Line {
            line_id: 1,
            item_id: "tee".into(),
            sub_code: "red".into(),
            title: "T".into(),
            quantity: qty,
            unit_price: 1500,
        }],
        ship_to: ShipTo::default(),
    }
}

fn stock(n: u32) -> HashMap<String, u32> {
    HashMap::from([("tee:red".to_string(), n)])
}

#[test]
fn an_order_in_the_cancel_window_holds_stock_but_is_not_announced() {
    let o = decide(&order(2, true, 2), None, &stock(5));
    let kinds: Vec<_> = o.decision.events.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::OrderHeld), "{kinds:?}");
    assert!(!kinds.contains(&EventKind::OrderImported));
    assert_eq!(o.decision.stock.len(), 1);
    assert!(!o.seen.unwrap().announced);
}

#[test]
fn cancelled_or_completed_orders_are_not_taken_in() {
    assert!(
        decide(&order(4, false, 1), None, &stock(5))
            .decision
            .order
            .is_none()
    );
    assert!(
        decide(&order(5, false, 1), None, &stock(5))
            .decision
            .order
            .is_none()
    );
}

#[test]
fn a_short_order_says_so() {
    let o = decide(&order(2, false, 3), None, &stock(1));
    let w = o.decision.order.unwrap();
    assert_eq!(w.state, Some(OrderState::Short));
    assert!(matches!(w.attention, Some(Attention::Set(a)) if a.starts_with(SHORT_PREFIX)));
}
