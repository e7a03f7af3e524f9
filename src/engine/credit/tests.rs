use serde_json::json;

use super::*;
use crate::domain::order::PaymentRef;
use crate::domain::{Channel, OrderLine};

const NOW: &str = "2026-11-23T10:00:00+09:00";

fn order(state: OrderState, result: CreditVerdict, reserved: u32) -> Order {
    Order {
        channel: Channel::Direct,
        id: "SHOP-1".into(),
        state,
        payment_state: PaymentState::CreditPending,
        attention: None,
        lines: vec![OrderLine {
            line_no: 1,
            sku: "A".into(),
            name: "急須".into(),
            qty: 2,
            reserved_qty: reserved,
            unit_price: Some(2750),
        }],
        shipments: vec![],
        payment: Some(PaymentRef {
            method: crate::domain::order::PaymentMethod::Kuroneko,
            reference: Some("SHOP-1-1".into()),
            external_order_num: None,
        }),
        credit: Some(CreditCase {
            provider: DeferredProvider::Kuroneko,
            attempt: 1,
            result,
            ..Default::default()
        }),
        provider_status: None,
        status_changed_at: None,
        pending_calls: 0,
        created_at: NOW.into(),
        updated_at: NOW.into(),
    }
}

const RELEASE: CreditPolicy = CreditPolicy {
    release_on_credit_ng: true,
};

#[test]
fn ok_releases_the_order_for_shipping() {
    let o = order(OrderState::Allocated, CreditVerdict::Pending, 2);
    let d = verdict(&o, CreditVerdict::Ok, Source::Poll, RELEASE, NOW);
    let w = d.order.unwrap();
    assert_eq!(w.state, Some(OrderState::Confirmed));
    assert_eq!(w.payment_state, Some(PaymentState::CreditOk));
    assert_eq!(w.credit.unwrap().result, Some(CreditVerdict::Ok));
    assert!(d.stock.is_empty());
    assert_eq!(d.events[0].kind.as_str(), "credit.ok");
}

#[test]
fn refusals_need_attention_and_release_stock_when_configured() {
    for v in [CreditVerdict::Ng, CreditVerdict::OverLimit] {
        let o = order(OrderState::Allocated, CreditVerdict::Pending, 2);
        let d = verdict(&o, v, Source::Poll, RELEASE, NOW);
        assert_eq!(d.stock, vec![StockMove::ReleaseOrder]);
        let w = d.order.unwrap();
        assert_eq!(w.payment_state, Some(PaymentState::CreditNg));
        let Some(Attention::Set(reason)) = w.attention else {
            panic!("no attention")
        };
        assert!(reason.contains("Kuroneko Atobarai refused"), "{reason}");
        assert_eq!(
            reason.contains("limit"),
            v == CreditVerdict::OverLimit,
            "{reason}"
        );
        let kept = verdict(&o, v, Source::Poll, CreditPolicy::default(), NOW);
        assert!(kept.stock.is_empty());
    }
}

#[test]
fn the_same_refusal_twice_says_nothing_new() {
    let o = order(OrderState::Allocated, CreditVerdict::Ng, 0);
    let d = verdict(&o, CreditVerdict::Ng, Source::Poll, RELEASE, NOW);
    assert!(d.events.is_empty());
    assert!(d.order.unwrap().attention.is_none());
}

#[test]
fn an_ok_turned_ng_before_shipment_registration_names_the_parcel() {
    let o = order(OrderState::Shipped, CreditVerdict::Ok, 2);
    let d = verdict(&o, CreditVerdict::Ng, Source::BeforeShipment, RELEASE, NOW);
    // Shipped stock is gone: nothing to release.
    assert!(d.stock.is_empty());
    let Some(Attention::Set(reason)) = d.order.unwrap().attention else {
        panic!()
    };
    assert!(reason.contains("after an earlier OK"), "{reason}");
    assert!(reason.contains("parcel has already left"), "{reason}");
}

#[test]
fn a_request_answer_records_the_reference_and_a_late_one_on_a_cancelled_order_is_undone() {
    let mut o = order(OrderState::New, CreditVerdict::Pending, 0);
    o.payment.as_mut().unwrap().reference = None;
    let src = Source::Request {
        reference: "SHOP-1-1".into(),
        at_ms: 1,
    };
    let d = verdict(&o, CreditVerdict::Pending, src.clone(), RELEASE, NOW);
    let w = d.order.unwrap();
    assert_eq!(w.payment.unwrap().reference.as_deref(), Some("SHOP-1-1"));
    assert_eq!(w.credit.unwrap().requested_at_ms, Some(1));
    assert!(d.calls.is_empty());
    o.state = OrderState::Cancelled;
    let d = verdict(&o, CreditVerdict::Ok, src, RELEASE, NOW);
    assert!(matches!(d.calls.as_slice(), [Call::CreditCancel { .. }]));
    assert!(d.order.unwrap().state.is_none());
}

#[test]
fn shipping_needs_an_ok_and_registers_each_number_once() {
    let pending = order(OrderState::Confirmed, CreditVerdict::Pending, 2);
    assert!(shipment_refusal(&pending).unwrap().contains("pending"));
    let mut ok = order(OrderState::Confirmed, CreditVerdict::Ok, 2);
    assert_eq!(shipment_refusal(&ok), None);
    assert!(
        ship_call(
            &ok,
            Carrier::Yamato,
            "123456789013",
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        )
        .is_some()
    );
    ok.credit.as_mut().unwrap().registered = Some(("yamato".into(), "123456789013".into()));
    assert_eq!(
        ship_call(
            &ok,
            Carrier::Yamato,
            "123456789013",
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        ),
        None
    );
}

#[test]
fn cancel_reaches_the_provider_unless_it_refused_or_ended_the_transaction() {
    let ok = order(OrderState::Confirmed, CreditVerdict::Ok, 2);
    assert!(cancel_call(&ok, "").is_some());
    let ng = order(OrderState::Allocated, CreditVerdict::Ng, 0);
    assert_eq!(cancel_call(&ng, ""), None);
    // No answer yet: the request may have arrived all the same.
    let mut unanswered = order(OrderState::New, CreditVerdict::Pending, 0);
    unanswered.payment.as_mut().unwrap().reference = None;
    assert!(cancel_call(&unanswered, "").is_some());
    let mut paid = ok.clone();
    paid.credit.as_mut().unwrap().transaction = Some(Transaction::Paid);
    assert_eq!(cancel_call(&paid, ""), None);
}

#[test]
fn progress_records_payment_and_flags_what_needs_a_person() {
    let o = order(OrderState::Shipped, CreditVerdict::Ok, 2);
    let paid = progress(&o, Transaction::Paid);
    assert_eq!(paid.order.unwrap().payment_state, Some(PaymentState::Paid));
    let odd = progress(&o, Transaction::NeedsInvestigation);
    assert!(odd.order.unwrap().attention.is_some());
    let mut seen = o.clone();
    seen.credit.as_mut().unwrap().transaction = Some(Transaction::Invoiced);
    assert_eq!(progress(&seen, Transaction::Invoiced), Decision::default());
}

#[test]
fn applications_come_from_the_registration() {
    let o = order(OrderState::New, CreditVerdict::Pending, 0);
    let detail = json!({
        "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": null},
        "ship_to": null, "shipping_fee": 800, "fee": 330,
    });
    let app = application(&o, &detail, 2).unwrap();
    assert_eq!(app.attempt, 2);
    assert_eq!(
        app.ordered_on,
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    );
    assert_eq!((app.shipping_fee, app.fee), (800, 330));
    assert_eq!(app.lines[0].unit_price, 2750);
    assert!(app.ship_to.is_none());
    assert!(
        application(&o, &json!({}), 1)
            .unwrap_err()
            .contains("customer")
    );
}

#[test]
fn a_review_still_pending_a_day_after_the_request_needs_a_person_once() {
    let now_ms = chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .timestamp_millis();
    let mut o = order(OrderState::Allocated, CreditVerdict::Pending, 2);
    o.credit.as_mut().unwrap().requested_at_ms = Some(now_ms - 2 * 3600 * 1000);
    let d = verdict(&o, CreditVerdict::Pending, Source::Poll, RELEASE, NOW);
    assert_eq!(d.order.unwrap().attention, None, "two hours is normal");

    o.credit.as_mut().unwrap().requested_at_ms = Some(now_ms - REVIEW_ALERT_MS - 1);
    let d = verdict(&o, CreditVerdict::Pending, Source::Poll, RELEASE, NOW);
    let Some(Attention::Set(reason)) = d.order.unwrap().attention else {
        panic!("no attention after a day under review");
    };
    assert!(reason.contains("more than 24 hours"), "{reason}");
    assert!(
        d.stock.is_empty() && d.calls.is_empty(),
        "nothing else changes"
    );

    // Raised once: an order already flagged keeps its reason.
    o.attention = Some(reason);
    let d = verdict(&o, CreditVerdict::Pending, Source::Poll, RELEASE, NOW);
    assert_eq!(d.order.unwrap().attention, None);
}
