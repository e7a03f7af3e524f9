use serde_json::json;

use super::*;

fn raw(v: serde_json::Value) -> RawBankAccount {
    serde_json::from_value(v).unwrap()
}

fn good() -> serde_json::Value {
    json!({"customer_name": "やまだ たろう", "bank_name": "みずほ銀行", "branch_number": 12,
           "account_number": "０１２３４５"})
}

#[test]
fn a_name_in_kana_becomes_half_width_and_numbers_are_padded() {
    let a = raw(good()).validate().unwrap();
    assert_eq!(a.customer_name, "ﾔﾏﾀﾞ ﾀﾛｳ");
    assert_eq!(
        (a.branch_number.as_str(), a.account_number.as_str()),
        ("012", "0012345")
    );
    assert_eq!(
        (
            a.account_type.as_str(),
            a.include_fee,
            a.bank_code.as_deref()
        ),
        ("normal", false, None)
    );
    assert_eq!(format!("{a:?}"), "BankAccount([redacted])");
}

#[test]
fn each_bad_field_is_named_japanese_first() {
    for (field, bad) in [
        ("customer_name", json!("山田")),
        ("customer_name", json!("")),
        ("bank_name", json!(" ")),
        ("bank_code", json!("12345")),
        ("branch_number", json!("1234")),
        ("account_number", json!("12-3456")),
        ("account_number", json!(12345678)),
        ("account_type", json!("checking")),
    ] {
        let mut v = good();
        v[field] = bad.clone();
        let e = raw(v).validate().unwrap_err();
        assert_eq!(e.field, field, "{bad}");
        assert!(e.message.starts_with(label(field)), "{}", e.message);
    }
    let mut v = good();
    v.as_object_mut().unwrap().remove("account_number");
    assert_eq!(raw(v).validate().unwrap_err().field, "account_number");
    assert!(serde_json::from_value::<RawBankAccount>(json!({"iban": "x"})).is_err());
}

#[test]
fn the_request_is_found_by_its_key_and_the_amount_is_what_arrived() {
    let payment = |captured: Option<i64>| Payment {
        id: "p1".into(),
        status: super::super::PaymentStatus::Captured,
        amount: 10000,
        tax: 1000,
        payment_method_fee: 190,
        total: 11190,
        currency: "JPY".into(),
        external_order_num: None,
        payment_deadline: None,
        captured_at: None,
        amount_refunded: 0,
        method: "bank_transfer".into(),
        refunds: vec![],
        captured,
        split: vec![],
        refund_requests: seen(Some(&[
            json!({"id": "r1", "status": "rejected", "description": "SHOP-1 [os-a-1]"}),
            json!({"id": "r2", "status": "pending", "description": "SHOP-1 [os-a-12]"}),
            json!({"status": "pending"}),
        ])),
        created_at: chrono::Utc::now(),
    };
    let p = payment(None);
    assert_eq!(p.refund_requests.len(), 2, "one without an id is skipped");
    assert_eq!(
        p.refund_request_filed_with("os-a-12")
            .map(|r| r.id.as_str()),
        Some("r2")
    );
    assert_eq!(p.refund_request_filed_with("os-a-2"), None);
    assert_eq!(p.refund_request_amount(), 11000);
    assert_eq!(payment(Some(11190)).refund_request_amount(), 11000);
    assert_eq!(payment(Some(9000)).refund_request_amount(), 9000);
    assert_eq!(payment(Some(20000)).refund_request_amount(), 11000);
}

#[test]
fn a_refund_request_update_names_its_payment() {
    let kind = WebhookEvent::parse("refund_request.updated");
    let data = json!({"id": "r1", "payment": "abc123", "status": "completed"});
    assert_eq!(payment_of_update(&kind, Some(&data)), Some("abc123".into()));
    let bad = json!({"payment": "../x"});
    assert_eq!(payment_of_update(&kind, Some(&bad)), None);
    assert_eq!(
        payment_of_update(&WebhookEvent::Captured, Some(&data)),
        None
    );
}

#[test]
fn webhook_bodies_are_kept_without_the_bank_account() {
    let payment = json!({"id": "e1", "type": "payment.refunded", "data": {"id": "p1",
        "refund_requests": [{"id": "r1", "customer_name": "ﾔﾏﾀﾞ", "account_number": "7654321",
                             "bank_code": null, "status": "completed"}]}});
    let kept = redact_bank_data(payment.to_string().as_bytes()).unwrap();
    let kept: serde_json::Value = serde_json::from_slice(&kept).unwrap();
    let r = &kept["data"]["refund_requests"][0];
    assert_eq!(
        (r["customer_name"].as_str(), r["account_number"].as_str()),
        (Some("[redacted]"), Some("[redacted]"))
    );
    assert_eq!(
        (r["status"].as_str(), &r["bank_code"]),
        (Some("completed"), &json!(null))
    );
    let update = json!({"type": "refund_request.updated",
        "data": {"id": "r1", "payment": "p1", "bank_name": "みずほ", "branch_number": "012"}});
    let kept = String::from_utf8(redact_bank_data(update.to_string().as_bytes()).unwrap()).unwrap();
    assert!(!kept.contains("みずほ") && !kept.contains("012"), "{kept}");
    assert_eq!(
        redact_bank_data(br#"{"type": "payment.captured", "data": {"id": "p1"}}"#),
        None
    );
}
