use std::collections::HashMap;

use super::*;
use crate::domain::{Channel, OrderLine};
use crate::engine::StockMove;
use crate::providers::jgoods::SnapshotLine;

fn snap(status: Status, lines: &[(u32, &str, u32, Option<u32>)], at: &str) -> OrderSnapshot {
    OrderSnapshot {
        order_no: "JG1".into(),
        status,
        status_changed_at: Some(chrono::DateTime::parse_from_rfc3339(at).unwrap()),
        parent_order_no: None,
        ship_to: None,
        lines: lines
            .iter()
            .map(|(n, sku, qty, rq)| SnapshotLine {
                line_no: *n,
                sku: sku.to_string(),
                name: String::new(),
                qty: *qty,
                reserved_qty: *rq,
                unit_price: Some(1000),
            })
            .collect(),
    }
}

fn order(state: OrderState, lines: &[(u32, &str, u32, u32)], status: Status, at: &str) -> Order {
    Order {
        channel: Channel::Jgoods,
        id: "JG1".into(),
        state,
        payment_state: PaymentState::Unpaid,
        attention: None,
        lines: lines
            .iter()
            .map(|(n, sku, qty, rq)| OrderLine {
                line_no: *n,
                sku: sku.to_string(),
                name: String::new(),
                qty: *qty,
                reserved_qty: *rq,
                unit_price: Some(1000),
            })
            .collect(),
        shipments: vec![],
        payment: None,
        provider_status: Some(status.code().into()),
        status_changed_at: Some(at.into()),
        credit: None,
        pending_calls: 0,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

const T1: &str = "2026-11-22T10:00:00+09:00";
const T2: &str = "2026-11-22T11:00:00+09:00";
const T3: &str = "2026-11-22T12:00:00+09:00";

fn stock(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

fn kinds(d: &Decision) -> Vec<&str> {
    d.events.iter().map(|e| e.kind.as_str()).collect()
}

fn attention_of(d: &Decision) -> Option<&str> {
    match d.order.as_ref()?.attention.as_ref()? {
        Attention::Set(s) => Some(s),
        Attention::Clear => None,
    }
}

#[test]
fn new_paid_order_with_enough_stock_is_allocated_and_confirmed() {
    let s = snap(
        Status::AwaitingApproval,
        &[(1, "A", 3, None), (2, "B", 1, None)],
        T1,
    );
    let d = decide(&s, None, &stock(&[("A", 5), ("B", 1)]), Source::Webhook);
    let w = d.order.as_ref().unwrap();
    assert_eq!(w.state, Some(OrderState::Allocated));
    assert_eq!(w.payment_state, Some(PaymentState::Unpaid));
    assert_eq!(d.stock.len(), 2);
    assert_eq!(
        d.calls,
        vec![Call::JgoodsPutOrder {
            order_no: "JG1".into(),
            items: Some(vec![
                ReservedLine {
                    line_no: 1,
                    reserved_qty: 3
                },
                ReservedLine {
                    line_no: 2,
                    reserved_qty: 1
                }
            ]),
            confirm: true
        }]
    );
    assert_eq!(kinds(&d), ["order.allocated"]);
}

#[test]
fn short_stock_posts_partial_quantities_without_confirming() {
    let s = snap(
        Status::AwaitingApproval,
        &[(1, "A", 3, None), (2, "B", 2, None)],
        T1,
    );
    let d = decide(&s, None, &stock(&[("A", 2)]), Source::Webhook);
    assert_eq!(d.order.as_ref().unwrap().state, Some(OrderState::Short));
    assert_eq!(
        d.stock,
        vec![StockMove::Reserve {
            line_no: 1,
            sku: "A".into(),
            qty: 2
        }]
    );
    assert_eq!(
        d.calls,
        vec![Call::JgoodsPutOrder {
            order_no: "JG1".into(),
            items: Some(vec![
                ReservedLine {
                    line_no: 1,
                    reserved_qty: 2
                },
                ReservedLine {
                    line_no: 2,
                    reserved_qty: 0
                }
            ]),
            confirm: false
        }]
    );
}

#[test]
fn a_repeat_of_the_paid_order_never_allocates_twice() {
    let s = snap(Status::AwaitingApproval, &[(1, "A", 3, None)], T1);
    let mut o = order(
        OrderState::Allocated,
        &[(1, "A", 3, 3)],
        Status::AwaitingApproval,
        T1,
    );
    o.pending_calls = 1;
    let d = decide(&s, Some(&o), &stock(&[("A", 100)]), Source::Webhook);
    assert!(d.stock.is_empty());
    assert!(d.calls.is_empty());
    assert_eq!(kinds(&d), ["webhook.repeat"]);
    // With nothing queued, our answer is sent again (the PUT is idempotent).
    o.pending_calls = 0;
    let d = decide(&s, Some(&o), &stock(&[("A", 100)]), Source::Webhook);
    assert!(d.stock.is_empty());
    assert_eq!(d.calls.len(), 1);
}

#[test]
fn accepted_partial_quantities_are_confirmed() {
    let s = snap(
        Status::AwaitingApproval,
        &[(1, "A", 2, Some(2)), (2, "B", 0, Some(0))],
        T3,
    );
    let mut o = order(
        OrderState::Short,
        &[(1, "A", 3, 2), (2, "B", 2, 0)],
        Status::AwaitingReply,
        T2,
    );
    o.payment_state = PaymentState::Unpaid;
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Webhook);
    let w = d.order.as_ref().unwrap();
    assert_eq!(w.state, Some(OrderState::Allocated));
    assert_eq!(w.lines.as_ref().unwrap()[0].qty, 2);
    assert_eq!(
        d.calls,
        vec![Call::JgoodsPutOrder {
            order_no: "JG1".into(),
            items: None,
            confirm: true
        }]
    );
    assert!(d.stock.is_empty());
}

#[test]
fn reserved_qty_that_differs_from_ours_needs_a_person() {
    let s = snap(Status::AwaitingApproval, &[(1, "A", 2, Some(2))], T3);
    let o = order(
        OrderState::Short,
        &[(1, "A", 3, 1)],
        Status::AwaitingReply,
        T2,
    );
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Webhook);
    assert!(
        attention_of(&d)
            .unwrap()
            .contains("line 1: J-goods 2, here 1")
    );
    assert!(d.calls.is_empty());
    assert!(d.stock.is_empty());
}

#[test]
fn cancellation_releases_stock_and_drops_queued_calls() {
    let s = snap(Status::Cancelled, &[(1, "A", 3, Some(2))], T3);
    let o = order(
        OrderState::Short,
        &[(1, "A", 3, 2)],
        Status::AwaitingReply,
        T2,
    );
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Webhook);
    assert_eq!(d.order.as_ref().unwrap().state, Some(OrderState::Cancelled));
    assert_eq!(d.stock, vec![StockMove::ReleaseOrder]);
    assert!(d.cancel_pending_calls);
    // Again: nothing more happens.
    let o = order(
        OrderState::Cancelled,
        &[(1, "A", 3, 0)],
        Status::Cancelled,
        T3,
    );
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Webhook);
    assert!(d.stock.is_empty());
    assert_eq!(kinds(&d), ["webhook.repeat"]);
}

#[test]
fn cancellation_of_an_unknown_order_is_recorded_without_stock() {
    let s = snap(Status::Cancelled, &[(1, "A", 3, None)], T1);
    let d = decide(&s, None, &HashMap::new(), Source::Webhook);
    assert_eq!(d.order.as_ref().unwrap().state, Some(OrderState::Cancelled));
    assert!(d.stock.is_empty());
}

#[test]
fn stale_webhooks_change_nothing_and_trigger_a_reread() {
    let s = snap(Status::AwaitingReply, &[(1, "A", 3, Some(2))], T1);
    let o = order(
        OrderState::Allocated,
        &[(1, "A", 2, 2)],
        Status::AwaitingApproval,
        T3,
    );
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Webhook);
    assert!(d.order.is_none());
    assert_eq!(
        d.calls,
        vec![Call::JgoodsFetchOrder {
            order_no: "JG1".into()
        }]
    );
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Fetched);
    assert!(d.calls.is_empty() && d.order.is_none());
}

#[test]
fn awaiting_arrival_confirms_a_fully_allocated_order() {
    let s = snap(Status::AwaitingArrival, &[(1, "A", 3, Some(3))], T2);
    let o = order(
        OrderState::Allocated,
        &[(1, "A", 3, 3)],
        Status::AwaitingApproval,
        T1,
    );
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Webhook);
    let w = d.order.as_ref().unwrap();
    assert_eq!(w.state, Some(OrderState::Confirmed));
    assert_eq!(w.payment_state, Some(PaymentState::Deferred));
    assert!(d.cancel_pending_calls);
}

#[test]
fn a_late_awaiting_arrival_notice_for_a_shipped_order_changes_nothing() {
    // The merchant shipped to J-goods' warehouse before J-goods' webhook
    // about the move to 入荷待ち got through.
    let s = snap(Status::AwaitingArrival, &[(1, "A", 3, Some(3))], T2);
    let o = order(
        OrderState::Shipped,
        &[(1, "A", 3, 3)],
        Status::AwaitingArrival,
        T1,
    );
    let d = decide(&s, Some(&o), &HashMap::new(), Source::Webhook);
    let w = d.order.as_ref().unwrap();
    assert_eq!(w.state, None);
    assert_eq!(w.attention, None);
    assert!(d.calls.is_empty() && d.stock.is_empty());
}

#[test]
fn put_outcomes_move_payment_only_on_awaiting_arrival() {
    let o = order(
        OrderState::Allocated,
        &[(1, "A", 3, 3)],
        Status::AwaitingApproval,
        T1,
    );
    let ok = snap(Status::AwaitingArrival, &[(1, "A", 3, Some(3))], T2);
    let d = decide_put_outcome(&o, &PutOutcome::Accepted(ok));
    assert_eq!(
        d.order.as_ref().unwrap().payment_state,
        Some(PaymentState::Deferred)
    );

    let o = order(
        OrderState::Short,
        &[(1, "A", 3, 1)],
        Status::AwaitingApproval,
        T1,
    );
    let reply = snap(Status::AwaitingReply, &[(1, "A", 3, Some(1))], T2);
    let d = decide_put_outcome(&o, &PutOutcome::Accepted(reply));
    let w = d.order.as_ref().unwrap();
    assert_eq!(w.payment_state, None);
    assert_eq!(w.state, None);

    let d = decide_put_outcome(
        &o,
        &PutOutcome::Refused {
            code: "INVALID_QTY".into(),
            message: "bad".into(),
        },
    );
    assert!(attention_of(&d).unwrap().contains("INVALID_QTY"));
}

#[test]
fn a_conflict_reread_showing_cancellation_releases_stock() {
    let o = order(
        OrderState::Allocated,
        &[(1, "A", 3, 3)],
        Status::AwaitingApproval,
        T1,
    );
    let now = snap(Status::Cancelled, &[(1, "A", 3, None)], T2);
    let d = decide_put_outcome(&o, &PutOutcome::Accepted(now));
    assert_eq!(d.stock, vec![StockMove::ReleaseOrder]);
    assert_eq!(d.order.as_ref().unwrap().state, Some(OrderState::Cancelled));
}

#[test]
fn informational_statuses_only_record() {
    let o = order(
        OrderState::Confirmed,
        &[(1, "A", 3, 3)],
        Status::AwaitingArrival,
        T1,
    );
    for st in [
        Status::AwaitingShipment,
        Status::Shipped,
        Status::AwaitingRepayment,
    ] {
        let d = decide(
            &snap(st, &[(1, "A", 3, Some(3))], T2),
            Some(&o),
            &HashMap::new(),
            Source::Webhook,
        );
        assert!(d.stock.is_empty() && d.calls.is_empty());
        assert!(attention_of(&d).is_none());
        assert_eq!(
            d.order.as_ref().unwrap().provider_status.as_deref(),
            Some(st.code())
        );
    }
    let d = decide(
        &snap(Status::Received, &[(1, "A", 3, None)], T1),
        None,
        &HashMap::new(),
        Source::Webhook,
    );
    assert_eq!(d.order.as_ref().unwrap().state, Some(OrderState::New));
    assert!(d.stock.is_empty());
    let d = decide(
        &snap(Status::Shipped, &[(1, "A", 3, Some(3))], T1),
        None,
        &HashMap::new(),
        Source::Webhook,
    );
    assert!(attention_of(&d).is_some());
}

#[test]
fn an_order_seen_before_payment_is_allocated_when_paid() {
    let o = order(
        OrderState::New,
        &[(1, "A", 3, 0)],
        Status::AwaitingPayment,
        T1,
    );
    let s = snap(Status::AwaitingApproval, &[(1, "A", 3, None)], T2);
    let d = decide(&s, Some(&o), &stock(&[("A", 3)]), Source::Webhook);
    assert_eq!(d.order.as_ref().unwrap().state, Some(OrderState::Allocated));
    assert_eq!(d.stock.len(), 1);
}

#[test]
fn an_answer_already_reported_by_webhook_is_not_reported_twice() {
    let o = order(
        OrderState::Confirmed,
        &[(1, "A", 3, 3)],
        Status::AwaitingArrival,
        T2,
    );
    let ok = snap(Status::AwaitingArrival, &[(1, "A", 3, Some(3))], T2);
    assert_eq!(
        decide_put_outcome(&o, &PutOutcome::Accepted(ok)),
        Decision::default()
    );
    let o = order(
        OrderState::Short,
        &[(1, "A", 3, 1)],
        Status::AwaitingReply,
        T2,
    );
    let reply = snap(Status::AwaitingReply, &[(1, "A", 3, Some(1))], T2);
    assert_eq!(
        decide_put_outcome(&o, &PutOutcome::Accepted(reply)),
        Decision::default()
    );
}
