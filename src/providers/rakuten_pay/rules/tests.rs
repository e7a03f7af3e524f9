use std::collections::HashMap;

use super::*;
use crate::domain::{Channel, OrderLine};
use crate::providers::rakuten_pay::{Item, Package, Person, Totals};

const PREF: [SkuSource; 3] = [
    SkuSource::MerchantDefinedSkuId,
    SkuSource::ItemNumber,
    SkuSource::ManageNumber,
];

fn person() -> Person {
    Person {
        family_name: "山田".into(),
        first_name: "太郎".into(),
        family_name_kana: "ヤマダ".into(),
        first_name_kana: "タロウ".into(),
        postal_code: "1000001".into(),
        prefecture: "東京都".into(),
        city: "千代田区".into(),
        sub_address: "千代田1-1".into(),
        phone: "03-1234-5678".into(),
        email: None,
    }
}

fn rakuten(progress: Progress, rpay: bool, items: &[(&str, u32)]) -> RakutenOrder {
    RakutenOrder {
        order_number: "R1".into(),
        progress,
        ordered_at: chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+09:00").unwrap(),
        confirmed_at: None,
        fixed_at: None,
        rakuten_settlement: rpay,
        settlement_method_code: None,
        settlement_method: String::new(),
        customer: person(),
        totals: Totals {
            goods: None,
            postage: None,
            delivery: None,
            total: None,
            request: None,
        },
        packages: vec![Package {
            basket_id: 1,
            recipient: person(),
            items: items
                .iter()
                .enumerate()
                .map(|(i, (sku, units))| Item {
                    item_detail_id: i as i64 + 100,
                    name: format!("item {sku}"),
                    item_number: (!sku.is_empty()).then(|| sku.to_string()),
                    manage_number: None,
                    merchant_defined_sku_id: None,
                    variant_id: None,
                    price: 1000,
                    units: *units,
                    deleted: false,
                })
                .collect(),
            shipping: vec![],
            deleted: false,
        }],
    }
}

fn stored(
    state: OrderState,
    payment: PaymentState,
    progress: &str,
    lines: &[(&str, u32, u32)],
) -> Order {
    Order {
        channel: Channel::Rakuten,
        id: "R1".into(),
        state,
        payment_state: payment,
        attention: None,
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (sku, qty, held))| OrderLine {
                line_no: i as u32 + 1,
                sku: sku.to_string(),
                name: String::new(),
                qty: *qty,
                reserved_qty: *held,
                unit_price: Some(1000),
            })
            .collect(),
        shipments: vec![],
        payment: None,
        provider_status: Some(progress.into()),
        status_changed_at: None,
        credit: None,
        pending_calls: 0,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

fn free(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

#[test]
fn every_open_order_is_held_and_the_erp_hears_of_shop_collected_ones_at_300() {
    // (progress, rakuten-handled, stored, announced to the ERP)
    for (progress, rpay, stored, imported) in [
        (Progress::AwaitingConfirmation, true, true, true),
        (Progress::RakutenProcessing, true, true, true),
        (Progress::AwaitingShipment, true, true, true),
        // Cash on delivery: held and confirmed at 100, announced at 300.
        (Progress::AwaitingConfirmation, false, true, false),
        (Progress::RakutenProcessing, false, true, false),
        (Progress::AwaitingShipment, false, true, true),
        (Progress::Cancelled, true, false, false),
        (Progress::Shipped, true, false, false),
    ] {
        let d = decide(
            &rakuten(progress, rpay, &[("A", 1)]),
            None,
            &free(&[("A", 5)]),
            &PREF,
        );
        assert_eq!(d.order.is_some(), stored, "{progress:?} rpay={rpay}");
        let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds.contains(&"order.imported"),
            imported,
            "{progress:?} rpay={rpay}: {kinds:?}"
        );
        assert_eq!(kinds.contains(&"order.held"), stored && !imported);
    }
    // The held one is announced when it reaches 300.
    let o = stored(
        OrderState::Confirmed,
        PaymentState::Pending,
        "200",
        &[("A", 1, 1)],
    );
    let d = decide(
        &rakuten(Progress::AwaitingShipment, false, &[("A", 1)]),
        Some(&o),
        &free(&[]),
        &PREF,
    );
    assert!(d.events.iter().any(|e| e.kind.as_str() == "order.imported"));
}

#[test]
fn a_short_order_at_100_says_when_rakuten_cancels_it() {
    let order = rakuten(Progress::AwaitingConfirmation, false, &[("A", 3)]);
    let d = decide(&order, None, &free(&[("A", 1)]), &PREF);
    let w = d.order.unwrap();
    assert_eq!(w.state, Some(OrderState::Short));
    let Some(Attention::Set(reason)) = w.attention else {
        panic!("no attention")
    };
    let deadline = auto_cancel_deadline(order.ordered_at)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(reason.starts_with(SHORT_PREFIX), "{reason}");
    assert!(reason.contains(&deadline), "{reason} / {deadline}");
}

#[test]
fn a_deleted_line_is_never_allocated_and_gives_its_stock_back_when_deleted() {
    let mut order = rakuten(Progress::AwaitingConfirmation, true, &[("A", 2), ("B", 1)]);
    order.packages[0].items[1].deleted = true;
    let d = decide(&order, None, &free(&[("A", 5), ("B", 5)]), &PREF);
    let w = d.order.clone().unwrap();
    assert_eq!(w.state, Some(OrderState::Allocated));
    assert_eq!(w.lines.unwrap()[1].qty, 0, "kept, with quantity 0");
    assert_eq!(d.stock.len(), 1, "only A is reserved: {:?}", d.stock);
    // A short order whose missing line is deleted at 100 is complete.
    let o = stored(
        OrderState::Short,
        PaymentState::Pending,
        "100",
        &[("A", 2, 2), ("B", 1, 0)],
    );
    let d = decide(&order, Some(&o), &free(&[]), &PREF);
    let w = d.order.unwrap();
    assert_eq!(w.state, Some(OrderState::Allocated));
    // Held stock of a line deleted later goes back.
    let o = stored(
        OrderState::Allocated,
        PaymentState::Pending,
        "100",
        &[("A", 2, 2), ("B", 1, 1)],
    );
    let d = decide(&order, Some(&o), &free(&[]), &PREF);
    assert_eq!(d.stock, vec![StockMove::ReleaseLine { line_no: 2, qty: 1 }]);
}

#[test]
fn paid_only_when_rakuten_settles_and_reaches_300() {
    let at100 = decide(
        &rakuten(Progress::AwaitingConfirmation, true, &[("A", 1)]),
        None,
        &free(&[("A", 5)]),
        &PREF,
    );
    let w = at100.order.unwrap();
    assert_eq!(
        (w.state, w.payment_state),
        (Some(OrderState::Allocated), Some(PaymentState::Pending))
    );
    let at300 = decide(
        &rakuten(Progress::AwaitingShipment, true, &[("A", 1)]),
        None,
        &free(&[("A", 5)]),
        &PREF,
    );
    let w = at300.order.unwrap();
    assert_eq!(
        (w.state, w.payment_state),
        (Some(OrderState::Confirmed), Some(PaymentState::Paid))
    );
    let cod = decide(
        &rakuten(Progress::AwaitingShipment, false, &[("A", 1)]),
        None,
        &free(&[("A", 5)]),
        &PREF,
    );
    assert_eq!(
        cod.order.unwrap().payment_state,
        Some(PaymentState::Pending)
    );
    // A known order reaching 300 becomes paid.
    let o = stored(
        OrderState::Confirmed,
        PaymentState::Pending,
        "200",
        &[("A", 1, 1)],
    );
    let d = decide(
        &rakuten(Progress::AwaitingShipment, true, &[("A", 1)]),
        Some(&o),
        &HashMap::new(),
        &PREF,
    );
    assert_eq!(d.order.unwrap().payment_state, Some(PaymentState::Paid));
}

#[test]
fn short_and_unknown_skus_keep_their_partial_reservation_and_need_a_person() {
    let d = decide(
        &rakuten(Progress::AwaitingConfirmation, true, &[("A", 3), ("", 1)]),
        None,
        &free(&[("A", 2)]),
        &PREF,
    );
    let w = d.order.as_ref().unwrap();
    assert_eq!(w.state, Some(OrderState::Short));
    assert!(matches!(&w.attention, Some(Attention::Set(r)) if r.contains("no SKU")));
    assert_eq!(
        d.stock,
        vec![StockMove::Reserve {
            line_no: 1,
            sku: "A".into(),
            qty: 2
        }]
    );
}

#[test]
fn cancellation_releases_and_edits_rebalance() {
    let o = stored(
        OrderState::Confirmed,
        PaymentState::Paid,
        "300",
        &[("A", 3, 3), ("B", 1, 1)],
    );
    let d = decide(
        &rakuten(Progress::Cancelled, true, &[("A", 3), ("B", 1)]),
        Some(&o),
        &HashMap::new(),
        &PREF,
    );
    assert_eq!(d.stock, vec![StockMove::ReleaseOrder]);
    assert_eq!(d.order.unwrap().state, Some(OrderState::Cancelled));
    // 400: A goes 3 → 1, B removed, C added.
    let edited = rakuten(
        Progress::AwaitingChangeConfirmation,
        true,
        &[("A", 1), ("C", 2)],
    );
    let d = decide(&edited, Some(&o), &free(&[("C", 5)]), &PREF);
    assert!(
        d.stock
            .contains(&StockMove::ReleaseLine { line_no: 1, qty: 2 })
    );
    // Line 2 is now C: B's unit goes back and C is reserved.
    assert!(
        d.stock
            .contains(&StockMove::ReleaseLine { line_no: 2, qty: 1 })
    );
    assert!(d.stock.contains(&StockMove::Reserve {
        line_no: 2,
        sku: "C".into(),
        qty: 2
    }));
    assert!(d.order.unwrap().attention.is_some());
}

#[test]
fn confirmation_answers() {
    let o = stored(
        OrderState::Allocated,
        PaymentState::Pending,
        "100",
        &[("A", 1, 1)],
    );
    assert!(should_confirm(&o));
    let d = decide_confirm(&o, &ConfirmResult::AlreadyDone);
    assert_eq!(d.order.unwrap().state, Some(OrderState::Confirmed));
    let d = decide_confirm(&o, &ConfirmResult::PostageNotSet);
    assert!(d.order.unwrap().attention.is_some());
    let short = stored(
        OrderState::Short,
        PaymentState::Pending,
        "100",
        &[("A", 2, 1)],
    );
    assert!(!should_confirm(&short));
}

#[test]
fn windows_cover_the_lookback_in_legal_pieces() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00+09:00").unwrap();
    let day = std::time::Duration::from_secs(86400);
    let w = windows(now, day * 3, Duration::days(63));
    assert_eq!(w, vec![(now - Duration::days(3), now)]);
    let w = windows(now, day * 100, Duration::days(63));
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].1, w[1].0);
    assert_eq!(w[1].1, now);
    let [a, b] = halve(w[0]).unwrap();
    assert_eq!((a.0, a.1, b.1), (w[0].0, b.0, w[0].1));
}
