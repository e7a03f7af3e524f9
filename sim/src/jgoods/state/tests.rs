//! The back office's rules, without HTTP.

use serde_json::json;

use super::*;
use crate::jgoods::wire::{JgoodsOrderItem, JgoodsShipTo};

fn arrival() -> &'static str {
    Status::AwaitingArrival.label()
}

fn order(no: &str, qtys: &[u32]) -> JgoodsOrder {
    JgoodsOrder {
        order_no: no.to_string(),
        status: Status::AwaitingApproval,
        status_changed_at: None,
        parent_order_no: None,
        ship_to: Some(JgoodsShipTo {
            name: "warehouse".into(),
            postal_code: "5300001".into(),
            address: "Osaka".into(),
            phone: "0612345678".into(),
        }),
        items: qtys
            .iter()
            .zip(1..)
            .map(|(q, line_no)| JgoodsOrderItem {
                line_no,
                item_code: format!("SKU-{line_no}"),
                item_name: String::new(),
                qty: *q,
                reserved_qty: None,
                unit_price: Some(100),
            })
            .collect(),
    }
}

fn state_with(no: &str, qtys: &[u32]) -> SimState {
    let mut s = SimState::new(CustomerDecision::Accept);
    s.place(order(no, qtys));
    s.take_effects();
    s
}

fn put(s: &mut SimState, no: &str, body: Value) -> Result<JgoodsOrder, ApiError> {
    s.put_order(no, body.to_string().as_bytes())
}

/// `{"items": [...]}` with `(line_no, reserved_qty)` pairs, plus 入荷待ち when `confirm`.
fn alloc(lines: &[(u32, u32)], confirm: bool) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|(l, r)| json!({"line_no": l, "reserved_qty": r}))
        .collect();
    if confirm {
        json!({"status": arrival(), "items": items})
    } else {
        json!({ "items": items })
    }
}

#[test]
fn full_allocation_with_status_moves_to_awaiting_arrival() {
    let mut s = state_with("A", &[2, 1]);
    let o = put(&mut s, "A", alloc(&[(2, 1), (1, 2)], true)).unwrap();
    assert_eq!(o.status, Status::AwaitingArrival);
    assert!(
        matches!(&s.take_effects()[..], [Effect::Webhook(w)] if w.status == Status::AwaitingArrival)
    );
}

#[test]
fn full_allocation_without_status_only_records() {
    let mut s = state_with("A", &[2]);
    let o = put(&mut s, "A", alloc(&[(1, 2)], false)).unwrap();
    assert_eq!(o.status, Status::AwaitingApproval);
    assert_eq!(o.items[0].reserved_qty, Some(2));
    assert!(s.take_effects().is_empty());
    let o = put(&mut s, "A", json!({"status": arrival()})).unwrap();
    assert_eq!(o.status, Status::AwaitingArrival);
}

#[test]
fn short_allocation_asks_the_customer_and_accept_shrinks_qty() {
    let mut s = state_with("A", &[3, 2]);
    let short = alloc(&[(1, 1), (2, 2)], false);
    assert_eq!(
        put(&mut s, "A", short.clone()).unwrap().status,
        Status::AwaitingReply
    );
    let effects = s.take_effects();
    let Some(Effect::AwaitReply { version, .. }) = effects.last().cloned() else {
        panic!("no reply scheduled: {effects:?}");
    };
    assert!(
        !s.customer_reply("A", Some(version + 1), None),
        "stale reply"
    );
    assert!(s.customer_reply("A", Some(version), None));
    let o = s.order("A").unwrap();
    assert_eq!(o.status, Status::AwaitingApproval);
    let lines: Vec<_> = o.items.iter().map(|l| (l.qty, l.reserved_qty)).collect();
    assert_eq!(lines, vec![(1, Some(1)), (2, Some(2))]);
    // A retry of the short request is answered from memory.
    assert_eq!(
        put(&mut s, "A", short).unwrap().status,
        Status::AwaitingApproval
    );
    let confirm = json!({"status": arrival()});
    assert_eq!(
        put(&mut s, "A", confirm).unwrap().status,
        Status::AwaitingArrival
    );
}

#[test]
fn decline_cancels_and_no_reply_waits() {
    let mut s = state_with("A", &[3]);
    s.set_decision("A", CustomerDecision::NoReply);
    put(&mut s, "A", alloc(&[(1, 0)], false)).unwrap();
    assert!(!s.customer_reply("A", None, None));
    assert!(s.customer_reply("A", None, Some(CustomerDecision::Decline)));
    assert_eq!(s.order("A").unwrap().status, Status::Cancelled);
}

#[test]
fn invalid_bodies_get_the_contract_codes() {
    let mut s = state_with("A", &[2, 1]);
    let line = |l: u32, r: Value| json!({"line_no": l, "reserved_qty": r});
    let cases = [
        (alloc(&[(1, 3), (2, 1)], false), "INVALID_QTY"),
        (
            json!({"items": [line(1, json!(1.5)), line(2, json!(1))]}),
            "INVALID_QTY",
        ),
        (
            json!({"items": [line(1, json!(-1)), line(2, json!(1))]}),
            "INVALID_QTY",
        ),
        (
            json!({"items": [line(1, json!("1")), line(2, json!(1))]}),
            "INVALID_QTY",
        ),
        (
            json!({"items": [{"line_no": 1}, line(2, json!(1))]}),
            "INVALID_QTY",
        ),
        (alloc(&[(1, 2)], false), "MISSING_LINE"),
        (alloc(&[(1, 2), (2, 1), (3, 0)], false), "MISSING_LINE"),
        (alloc(&[(1, 2), (1, 2)], false), "MISSING_LINE"),
        (
            json!({"items": [line(0, json!(1)), line(2, json!(1))]}),
            "MISSING_LINE",
        ),
        (json!({}), "MISSING_LINE"),
        (alloc(&[(1, 1), (2, 1)], true), "INVALID_STATUS"),
        (json!({"status": arrival()}), "INVALID_STATUS"),
        (json!({"status": Status::Shipped.label()}), "INVALID_STATUS"),
        (json!({"status": "arrived"}), "INVALID_STATUS"),
        (json!([1, 2]), "INVALID_REQUEST"),
    ];
    for (body, want) in cases {
        let got = put(&mut s, "A", body.clone()).expect_err("should be refused");
        assert_eq!((got.http_status, got.code), (400, want), "{body}");
    }
    assert_eq!(
        s.put_order("A", b"not json").unwrap_err().code,
        "INVALID_REQUEST"
    );
    let missing = s.put_order("B", b"{}").unwrap_err();
    assert_eq!(
        (missing.http_status, missing.code),
        (404, "ORDER_NOT_FOUND")
    );
    assert_eq!(s.order("A").unwrap().status, Status::AwaitingApproval);
    assert!(s.take_effects().is_empty());
}

#[test]
fn only_the_last_applied_request_is_replayed_after_approval() {
    let mut s = state_with("A", &[1]);
    let confirm = alloc(&[(1, 1)], true);
    put(&mut s, "A", confirm.clone()).unwrap();
    let reordered = format!(
        r#"{{ "items":[{{"reserved_qty":1,"line_no":1}}], "status":"{}" }}"#,
        arrival()
    );
    let again = s.put_order("A", reordered.as_bytes()).unwrap();
    assert_eq!(again.status, Status::AwaitingArrival);
    let err = put(&mut s, "A", json!({"status": arrival()})).unwrap_err();
    assert_eq!((err.http_status, err.code), (409, "STATUS_CONFLICT"));
    assert_eq!(err.current, Some(Status::AwaitingArrival));
    s.set_status("A", Status::Cancelled);
    // Identical again: 200 with the order as it now is.
    assert_eq!(put(&mut s, "A", confirm).unwrap().status, Status::Cancelled);
}

#[test]
fn status_changed_at_strictly_increases() {
    let mut s = state_with("A", &[1]);
    let mut seen = vec![s.order("A").unwrap().status_changed_at.unwrap()];
    for status in [Status::AwaitingShipment, Status::Shipped, Status::Cancelled] {
        s.set_status("A", status);
        seen.push(s.order("A").unwrap().status_changed_at.unwrap());
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(
        seen.iter()
            .all(|t| t.offset().local_minus_utc() == 9 * 3600)
    );
    let text = serde_json::to_value(s.order("A").unwrap()).unwrap()["status_changed_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.ends_with("+09:00"), "{text}");
}

#[test]
fn search_pages_by_hundred_and_filters() {
    let mut s = SimState::new(CustomerDecision::Accept);
    for i in 0..150 {
        s.place(order(&format!("JG{i:04}"), &[1]));
    }
    s.set_status("JG0000", Status::Cancelled);
    let (first, next) = s.search(Some(Status::AwaitingApproval), None, 1);
    assert_eq!((first.len(), next), (100, Some(2)));
    let (second, next) = s.search(Some(Status::AwaitingApproval), None, 2);
    assert_eq!((second.len(), next), (49, None));
    let (cancelled, _) = s.search(Some(Status::Cancelled), None, 1);
    assert_eq!(cancelled[0].order_no, "JG0000");
    let (recent, _) = s.search(None, cancelled[0].status_changed_at, 1);
    assert_eq!(recent.len(), 1);
    assert_eq!(s.search(None, None, 9).0.len(), 0);
}

#[test]
fn faults_run_out_and_any_matches_everything() {
    let mut s = SimState::new(CustomerDecision::Accept);
    s.inject(Endpoint::GetOrder, Fault::Status(503), 2);
    s.inject(Endpoint::Any, Fault::Conflict, 1);
    assert_eq!(s.take_fault(Endpoint::Search), Some(Fault::Conflict));
    assert_eq!(s.take_fault(Endpoint::GetOrder), Some(Fault::Status(503)));
    assert_eq!(s.take_fault(Endpoint::GetOrder), Some(Fault::Status(503)));
    assert_eq!(s.take_fault(Endpoint::GetOrder), None);
}

#[test]
fn stock_updates_known_items_and_reports_the_rest() {
    let mut s = state_with("A", &[1]);
    let body =
        json!({"items": [{"item_code": "SKU-1", "stock": 4}, {"item_code": "NOPE", "stock": 1}]});
    let r = s.put_stock(body.to_string().as_bytes()).unwrap();
    assert_eq!(r.updated, 1);
    assert_eq!(r.errors[0].item_code, "NOPE");
    assert_eq!(r.errors[0].code, "ITEM_NOT_FOUND");
    assert_eq!(s.stats.stock.get("SKU-1"), Some(&4));
    let negative = json!({"items": [{"item_code": "SKU-1", "stock": -1}]});
    let err = s.put_stock(negative.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.code, "INVALID_REQUEST");
    let many: Vec<Value> = (0..=MAX_STOCK_ITEMS)
        .map(|_| json!({"item_code": "SKU-1", "stock": 1}))
        .collect();
    let err = s
        .put_stock(json!({ "items": many }).to_string().as_bytes())
        .unwrap_err();
    assert_eq!(err.code, "TOO_MANY_ITEMS");
}
