use proptest::prelude::*;
use serde_json::json;

use super::*;

fn payment_json() -> Value {
    json!({
        "id": "5sbu5cdbk8lfuqdtjw1qkbt4g",
        "resource": "payment",
        "status": "captured",
        "amount": 1000,
        "tax": 100,
        "customer": null,
        "payment_deadline": "2026-12-01T14:59:59Z",
        "payment_details": {"type": "konbini", "store": "lawson", "instructions_url": "https://example.invalid"},
        "payment_method_fee": 190,
        "total": 1290,
        "currency": "JPY",
        "description": null,
        "captured_at": "2026-11-22T01:15:00Z",
        "external_order_num": "ORD-1",
        "metadata": {"k": "v"},
        "created_at": "2026-11-22T01:00:00Z",
        "amount_refunded": 300,
        "locale": "ja",
        "refunds": [
            {"id": "r1aaaaaaaaaaaaaaaaaaaaaaa", "resource": "refund", "amount": 100, "currency": "JPY",
             "payment": "5sbu5cdbk8lfuqdtjw1qkbt4g", "description": null,
             "created_at": "2026-11-23T00:00:00Z", "chargeback": false},
            {"id": "r2aaaaaaaaaaaaaaaaaaaaaaa", "resource": "refund", "amount": 200, "currency": "JPY",
             "created_at": "2026-11-24T00:00:00+09:00", "chargeback": true}
        ],
        "refund_requests": [],
        "platform_details": {"anything": 1}
    })
}

fn event_json(kind: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "evt0000000000000000000001",
        "type": kind,
        "resource": "event",
        "data": data,
        "created_at": "2026-11-22T01:15:01Z",
        "reason": null
    }))
    .unwrap()
}

#[test]
fn reads_the_contract_payment() {
    let p = payment_from_value(&payment_json(), "").unwrap();
    assert_eq!(p.id, "5sbu5cdbk8lfuqdtjw1qkbt4g");
    assert_eq!(p.status, PaymentStatus::Captured);
    assert_eq!(
        (p.amount, p.tax, p.payment_method_fee, p.total),
        (1000, 100, 190, 1290)
    );
    assert_eq!(p.currency, "JPY");
    assert_eq!(p.external_order_num.as_deref(), Some("ORD-1"));
    assert_eq!(p.method, "konbini");
    assert_eq!(p.amount_refunded, 300);
    assert_eq!(p.refundable(), 990);
    assert_eq!(p.refunds.len(), 2);
    assert_eq!(p.refunds[1].id, "r2aaaaaaaaaaaaaaaaaaaaaaa");
    assert!(p.refunds[1].chargeback);
    assert_eq!(
        format_time(p.refunds[1].created_at),
        "2026-11-23T15:00:00Z",
        "offsets are converted to UTC"
    );
    assert_eq!(format_time(p.captured_at.unwrap()), "2026-11-22T01:15:00Z");
}

#[test]
fn nulls_and_absent_optional_fields_are_tolerated() {
    let mut v = payment_json();
    for f in [
        "tax",
        "payment_method_fee",
        "captured_at",
        "external_order_num",
        "amount_refunded",
        "payment_details",
        "refunds",
        "total",
    ] {
        v[f] = Value::Null;
    }
    let p = payment_from_value(&v, "").unwrap();
    assert_eq!((p.tax, p.payment_method_fee, p.amount_refunded), (0, 0, 0));
    assert_eq!(p.total, 1000, "total defaults to amount + tax + fee");
    assert_eq!(p.method, "unknown");
    assert!(p.refunds.is_empty());
    assert_eq!(p.captured_at, None);
    assert_eq!(p.external_order_num, None);

    let mut v = payment_json();
    let obj = v.as_object_mut().unwrap();
    for f in [
        "tax",
        "captured_at",
        "refunds",
        "resource",
        "payment_details",
    ] {
        obj.remove(f);
    }
    obj.insert("brand_new_field".into(), json!([1, 2, {"x": null}]));
    assert!(payment_from_value(&v, "").is_ok());
}

#[test]
fn numbers_may_be_digit_strings_or_whole_floats() {
    let mut v = payment_json();
    v["amount"] = json!("1000");
    v["tax"] = json!(100.0);
    let p = payment_from_value(&v, "").unwrap();
    assert_eq!((p.amount, p.tax), (1000, 100));
}

#[test]
fn unknown_status_is_unknown_not_an_error() {
    let mut v = payment_json();
    v["status"] = json!("partially_captured");
    assert_eq!(
        payment_from_value(&v, "").unwrap().status,
        PaymentStatus::Unknown
    );
}

#[test]
fn bad_fields_are_named() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("id", Value::Null, "id"),
        ("id", json!("has space"), "id"),
        ("id", json!(12), "id"),
        ("status", Value::Null, "status"),
        ("status", json!(3), "status"),
        ("amount", Value::Null, "amount"),
        ("amount", json!(-1), "amount"),
        ("amount", json!("12a"), "amount"),
        ("amount", json!(1.5), "amount"),
        ("amount", json!(true), "amount"),
        ("tax", json!(-5), "tax"),
        ("total", json!({"n": 1}), "total"),
        ("currency", Value::Null, "currency"),
        ("currency", json!("¥"), "currency"),
        ("captured_at", json!("yesterday"), "captured_at"),
        ("created_at", Value::Null, "created_at"),
        ("resource", json!("refund"), "resource"),
        ("refunds", json!("none"), "refunds"),
        (
            "refunds",
            json!([{"id": "r1", "created_at": "2026-11-22T01:00:00Z"}]),
            "refunds[0].amount",
        ),
        (
            "refunds",
            json!([{"id": "r1", "amount": 5}]),
            "refunds[0].created_at",
        ),
        ("payment_details", json!("card"), "payment_details"),
    ];
    for (field, value, expected) in cases {
        let mut v = payment_json();
        v[field] = value.clone();
        let err = payment_from_value(&v, "data").unwrap_err();
        assert_eq!(err.field, format!("data.{expected}"), "{field} = {value}");
    }
    assert_eq!(
        payment_from_value(&json!([1]), "data").unwrap_err().field,
        "data"
    );
    assert_eq!(parse_payment(b"[]").unwrap_err().field, "body");
}

#[test]
fn payment_events_carry_their_payment() {
    let e = parse_event(&event_json("payment.captured", payment_json())).unwrap();
    assert_eq!(e.id, "evt0000000000000000000001");
    assert_eq!(e.kind, WebhookEvent::Captured);
    assert_eq!(e.payment.as_ref().unwrap().status, PaymentStatus::Captured);
    assert_eq!(format_time(e.created_at.unwrap()), "2026-11-22T01:15:01Z");
    assert_eq!(e.reason, None);

    let e = parse_event(&event_json("payment.refund.created", payment_json())).unwrap();
    assert_eq!(e.kind, WebhookEvent::RefundCreated);
    assert_eq!(
        e.payment.unwrap().refunds.last().unwrap().id,
        "r2aaaaaaaaaaaaaaaaaaaaaaa"
    );
}

#[test]
fn payment_event_without_a_readable_payment_is_refused() {
    let err = parse_event(&event_json("payment.captured", Value::Null)).unwrap_err();
    assert_eq!(err.field, "data");
    let mut broken = payment_json();
    broken["amount"] = json!("lots");
    let err = parse_event(&event_json("payment.authorized", broken)).unwrap_err();
    assert_eq!(err.field, "data.amount");
}

#[test]
fn ping_and_unknown_types_are_accepted() {
    let ping = parse_event(&event_json("ping", json!({}))).unwrap();
    assert_eq!(ping.kind, WebhookEvent::Ping);
    assert_eq!(ping.payment, None);

    let other = parse_event(&event_json(
        "customer.created",
        json!({"id": "c1", "resource": "customer"}),
    ))
    .unwrap();
    assert_eq!(
        other.kind,
        WebhookEvent::Other("customer.created".to_string())
    );
    assert_eq!(other.payment, None);

    // A future payment.* type: its payment is read when readable, never an error.
    let future = parse_event(&event_json(
        "payment.authorization_extended",
        payment_json(),
    ))
    .unwrap();
    assert!(matches!(future.kind, WebhookEvent::Other(_)));
    assert!(future.payment.is_some());
    let garbage = parse_event(&event_json(
        "payment.authorization_extended",
        json!({"resource": "payment", "amount": "x"}),
    ))
    .unwrap();
    assert_eq!(garbage.payment, None);
}

#[test]
fn event_envelope_errors_are_named() {
    let base =
        json!({"id": "evt1", "type": "ping", "data": {}, "created_at": null, "reason": "why"});
    let e = parse_event(&serde_json::to_vec(&base).unwrap()).unwrap();
    assert_eq!(e.created_at, None);
    assert_eq!(e.reason.as_deref(), Some("why"));
    let cases = [
        (json!({"type": "ping"}), "id"),
        (json!({"id": "evt1"}), "type"),
        (json!({"id": "evt1", "type": ""}), "type"),
        (json!({"id": "evt1", "type": 5}), "type"),
        (
            json!({"id": "evt1", "type": "ping", "created_at": "soon"}),
            "created_at",
        ),
        (json!({"id": ["evt1"], "type": "ping"}), "id"),
    ];
    for (body, field) in cases {
        let err = parse_event(&serde_json::to_vec(&body).unwrap()).unwrap_err();
        assert_eq!(err.field, field, "{body}");
    }
    assert_eq!(parse_event(b"").unwrap_err().field, "body");
    assert_eq!(parse_event(b"[1]").unwrap_err().field, "body");
    assert_eq!(parse_event(b"\"ping\"").unwrap_err().field, "body");
}

#[test]
fn error_envelopes_with_any_code_are_read() {
    let known = parse_error(
        br#"{"error":{"code":"missing_parameter","message":"A required parameter (amount) is missing","param":"amount","details":{}}}"#,
    )
    .unwrap();
    assert_eq!(known.code.as_deref(), Some("missing_parameter"));
    assert_eq!(known.param.as_deref(), Some("amount"));
    let unknown = parse_error(
        br#"{"error":{"code":"brand_new_code_2031","message":"m","param":null,"details":null,"extra":[1]}}"#,
    )
    .unwrap();
    assert_eq!(unknown.code.as_deref(), Some("brand_new_code_2031"));
    assert_eq!(unknown.details, None);
    let numeric = parse_error(br#"{"error":{"code":422,"message":["a"]}}"#).unwrap();
    assert_eq!(numeric.code.as_deref(), Some("422"));
    assert_eq!(numeric.message, None);
    let text = parse_error(br#"{"error":"Not Found"}"#).unwrap();
    assert_eq!(text.message.as_deref(), Some("Not Found"));
    assert_eq!(parse_error(b"<html>502</html>"), None);
    assert_eq!(parse_error(br#"{"message":"x"}"#), None);
}

#[test]
fn wire_round_trip_keeps_the_payment() {
    let p = payment_from_value(&payment_json(), "").unwrap();
    let wire = serde_json::to_value(wire_from_payment(&p)).unwrap();
    assert_eq!(payment_from_value(&wire, "").unwrap(), p);
    assert_eq!(wire["resource"], "payment");
    assert_eq!(wire["refunds"][0]["resource"], "refund");
}

#[test]
fn request_bodies_omit_what_is_not_given() {
    let capture = serde_json::to_string(&KomojuCaptureRequest { amount: None }).unwrap();
    assert_eq!(capture, "{}");
    let refund = serde_json::to_string(&KomojuRefundRequest {
        amount: Some(500),
        description: None,
    })
    .unwrap();
    assert_eq!(refund, r#"{"amount":500}"#);
    assert_eq!(
        serde_json::to_string(&KomojuCancelRequest {}).unwrap(),
        "{}"
    );
}

/// Arbitrary JSON values, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("2026-11-22T01:00:00Z".into())),
        Just(Value::String("payment".into())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("type".to_string()),
                    Just("amount".to_string()),
                    Just("status".to_string()),
                    Just("refunds".to_string()),
                    Just("created_at".to_string()),
                    ".{0,6}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parse_event_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_event(&bytes);
        let _ = parse_payment(&bytes);
        let _ = parse_error(&bytes);
    }

    #[test]
    fn parse_event_never_panics_on_json(
        kind in prop_oneof![
            Just("payment.captured".to_string()),
            Just("ping".to_string()),
            Just("payment.refund.created".to_string()),
            ".{0,20}",
        ],
        data in any_json(),
        field in prop_oneof![Just("id"), Just("amount"), Just("refunds"), Just("status"), Just("total"), Just("created_at")],
        replacement in any_json(),
    ) {
        let _ = parse_event(&event_json(&kind, data));
        // A valid payment with one field replaced by anything.
        let mut p = payment_json();
        p[field] = replacement;
        let parsed = parse_event(&event_json("payment.updated", p));
        if let Err(e) = parsed {
            prop_assert!(e.field.starts_with("data"), "{}", e);
        }
    }
}

/// The wire form of a neutral payment.
fn wire_from_payment(p: &Payment) -> KomojuPayment {
    KomojuPayment {
        id: Some(p.id.clone()),
        resource: Some("payment".to_string()),
        status: Some(p.status.as_str().to_string()),
        amount: Some(p.amount),
        tax: Some(p.tax),
        payment_method_fee: Some(p.payment_method_fee),
        total: Some(p.total),
        currency: Some(p.currency.clone()),
        description: None,
        external_order_num: p.external_order_num.clone(),
        payment_deadline: p.payment_deadline.map(format_time),
        captured_at: p.captured_at.map(format_time),
        amount_refunded: Some(p.amount_refunded),
        payment_details: Some(KomojuPaymentDetails {
            kind: Some(p.method.clone()),
        }),
        refunds: Some(
            p.refunds
                .iter()
                .map(|r| KomojuRefund {
                    id: Some(r.id.clone()),
                    resource: Some("refund".to_string()),
                    amount: Some(r.amount),
                    currency: Some(p.currency.clone()),
                    description: None,
                    created_at: Some(format_time(r.created_at)),
                    chargeback: Some(r.chargeback),
                })
                .collect(),
        ),
        captures: None,
        refund_requests: None,
        created_at: Some(format_time(p.created_at)),
        platform_details: None,
    }
}
