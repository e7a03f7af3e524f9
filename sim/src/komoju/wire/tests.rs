use super::*;
use crate::komoju::model::{CaptureMode, PaymentStatus, PaymentType};
use crate::komoju::utc;

#[test]
fn a_payment_has_the_contract_fields() {
    let p = Payment {
        id: "abcdefghijklmnopqrstuvwxy".into(),
        status: PaymentStatus::Captured,
        amount: 1000,
        tax: 100,
        payment_method_fee: 190,
        total: 1290,
        currency: "JPY".into(),
        external_order_num: Some("O1".into()),
        payment_deadline: Some(utc("2026-11-25T14:59:59Z")),
        captured_at: Some(utc("2026-11-23T03:00:00.250Z")),
        amount_refunded: 300,
        payment_type: PaymentType::Konbini,
        capture: CaptureMode::Auto,
        refunds: vec![Refund {
            id: "r".repeat(25),
            amount: 300,
            description: Some("one item".into()),
            created_at: utc("2026-11-24T00:00:00Z"),
            chargeback: false,
            platform_details: None,
        }],
        captures: vec![],
        refund_requests: vec![],
        platform_details: None,
        created_at: utc("2026-11-22T01:00:00Z"),
    };
    let view = crate::komoju::Behaviour::default().view(Some("2025-01-28"));
    let json = serde_json::to_value(KomojuPayment::from_payment(&p, view)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "abcdefghijklmnopqrstuvwxy", "resource": "payment", "status": "captured",
            "amount": 1000, "tax": 100, "payment_method_fee": 190, "total": 1290,
            "currency": "JPY", "description": null, "external_order_num": "O1",
            "payment_deadline": "2026-11-25T14:59:59Z",
            "captured_at": "2026-11-23T03:00:00Z", "amount_refunded": 300,
            "payment_details": {"type": "konbini"},
            "refunds": [{"id": "r".repeat(25), "resource": "refund", "amount": 300,
                "currency": "JPY", "description": "one item",
                "created_at": "2026-11-24T00:00:00Z", "chargeback": false}],
            "captures": [],
            "refund_requests": [],
            "created_at": "2026-11-22T01:00:00Z"
        })
    );
}

#[test]
fn errors_have_the_envelope() {
    let json = serde_json::to_value(ApiError::invalid("amount", "too big").body()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"error": {"code": "invalid_parameter", "message": "too big",
            "param": "amount", "details": {}}})
    );
    assert_eq!(ApiError::injected(503).code, "service_unavailable");
    assert_eq!(ApiError::injected(418).code, "simulated_fault");
}

#[test]
fn bodies_are_read_leniently_but_typed() {
    let empty: CaptureBody = read_body(b" ").unwrap();
    assert_eq!(empty.amount, None);
    let r: RefundBody = read_body(br#"{"amount":5,"description":"x","other":1}"#).unwrap();
    assert_eq!((r.amount, r.description.as_deref()), (Some(5), Some("x")));
    assert_eq!(
        read_body::<CaptureBody>(b"[1]").unwrap_err().http_status,
        400
    );
    assert_eq!(
        read_body::<CaptureBody>(b"{x").unwrap_err().http_status,
        400
    );
    let wrong = read_body::<CaptureBody>(br#"{"amount":"x"}"#).unwrap_err();
    assert_eq!((wrong.http_status, wrong.param), (422, Some("amount")));
}
