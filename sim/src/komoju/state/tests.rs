use chrono::TimeDelta;

use super::*;

fn t0() -> DateTime<Utc> {
    crate::komoju::utc("2026-11-22T01:00:00Z")
}

fn state() -> SimState {
    SimState::new(
        Duration::from_secs(24 * 3600),
        ExpiryDays::default(),
        Behaviour::default(),
        PlatformSettings::default(),
    )
}

fn create(
    s: &mut SimState,
    amount: i64,
    tax: i64,
    order: Option<&str>,
    kind: &str,
    capture: CaptureMode,
) -> Payment {
    s.create_payment(amount, tax, 0, order, kind.into(), capture, t0())
}

/// 1000 + 100 yen for order `O1`, by card, captured by the merchant.
fn order_o1_by_card(s: &mut SimState) -> Payment {
    create(s, 1000, 100, Some("O1"), "credit_card", CaptureMode::Manual)
}

fn kinds(effects: Vec<Effect>) -> Vec<String> {
    effects
        .into_iter()
        .map(|Effect::Webhook(e)| e.event_type)
        .collect()
}

#[test]
fn ids_are_25_lowercase_alphanumerics() {
    let mut s = state();
    let p = order_o1_by_card(&mut s);
    assert_eq!(p.id.len(), 25);
    assert!(
        p.id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(p.total, 1100);
    assert_eq!(p.payment_type, PaymentType::CreditCard);
    assert_eq!(p.payment_deadline, None, "cards have no payment deadline");
    assert!(s.take_effects().is_empty(), "creation sends nothing");
}

#[test]
fn types_that_wait_for_cash_get_a_deadline() {
    let mut s = state();
    let p = create(&mut s, 1000, 0, None, "konbini", CaptureMode::Auto);
    assert_eq!(p.payment_type, PaymentType::Konbini);
    assert_eq!(
        p.payment_deadline.map(wire::format_time).as_deref(),
        Some("2026-11-25T14:59:59Z")
    );
}

#[test]
fn manual_and_automatic_capture() {
    let mut s = state();
    let manual = create(&mut s, 1000, 0, None, "credit_card", CaptureMode::Manual);
    let auto = create(&mut s, 1000, 0, None, "credit_card", CaptureMode::Auto);
    assert_eq!(
        s.authorize(&manual.id, t0()).unwrap().status,
        PaymentStatus::Authorized
    );
    assert_eq!(
        s.authorize(&auto.id, t0()).unwrap().status,
        PaymentStatus::Captured
    );
    assert_eq!(
        kinds(s.take_effects()),
        ["payment.authorized", "payment.captured"]
    );
    assert!(s.authorize(&manual.id, t0()).is_none(), "only from pending");
    assert!(
        s.fail(&manual.id, t0()).is_none(),
        "failed only from pending"
    );
    assert_eq!(
        s.expire(&manual.id, t0()).unwrap().status,
        PaymentStatus::Expired
    );
}

#[test]
fn refunds_partial_then_full() {
    let mut s = state();
    let p = create(&mut s, 1000, 100, None, "paypay", CaptureMode::Auto);
    s.authorize(&p.id, t0()).unwrap();
    s.take_effects();
    let w = s.refund(&p.id, br#"{"amount":400}"#, t0()).unwrap();
    assert_eq!(w.status, PaymentStatus::Captured);
    assert_eq!(w.amount_refunded, 400);
    assert_eq!(kinds(s.take_effects()), ["payment.refund.created"]);
    let over = s.refund(&p.id, br#"{"amount":701}"#, t0()).unwrap_err();
    assert_eq!((over.http_status, over.param), (422, Some("amount")));
    let w = s
        .refund(&p.id, br#"{"description":"cancelled"}"#, t0())
        .unwrap();
    assert_eq!(w.status, PaymentStatus::Refunded);
    assert_eq!(w.refunds.len(), 2);
    assert_eq!(w.refunds[1].amount, 700);
    assert_eq!(w.refunds[1].description.as_deref(), Some("cancelled"));
    assert_eq!(
        kinds(s.take_effects()),
        ["payment.refund.created", "payment.refunded"]
    );
    assert_eq!(s.refund(&p.id, b"{}", t0()).unwrap_err().http_status, 422);
    assert_eq!(s.stats.payment(&p.id).refunds, 2);
}

#[test]
fn illegal_moves_are_422_and_change_nothing() {
    let mut s = state();
    let p = create(&mut s, 1000, 0, None, "credit_card", CaptureMode::Manual);
    assert_eq!(
        s.capture(&p.id, b"", Behaviour::default().view(None), t0())
            .unwrap_err()
            .http_status,
        422
    );
    assert_eq!(s.refund(&p.id, b"", t0()).unwrap_err().http_status, 422);
    s.authorize(&p.id, t0());
    assert_eq!(
        s.capture(
            &p.id,
            br#"{"amount":1001}"#,
            Behaviour::default().view(None),
            t0()
        )
        .unwrap_err()
        .http_status,
        422
    );
    assert_eq!(
        s.capture(&p.id, b"[1]", Behaviour::default().view(None), t0())
            .unwrap_err()
            .http_status,
        400
    );
    assert_eq!(
        s.capture(&p.id, b"{nope", Behaviour::default().view(None), t0())
            .unwrap_err()
            .http_status,
        400
    );
    assert_eq!(
        s.capture(
            &p.id,
            br#"{"amount":"x"}"#,
            Behaviour::default().view(None),
            t0()
        )
        .unwrap_err()
        .http_status,
        422
    );
    s.capture(
        &p.id,
        br#"{"amount":800}"#,
        Behaviour::default().view(None),
        t0(),
    )
    .unwrap();
    // 2025-01-28: the total stays, the capture is a `captures[]` entry.
    assert_eq!(s.payment(&p.id).unwrap().total, 1000);
    assert_eq!(s.payment(&p.id).unwrap().captures[0].amount, 800);
    assert_eq!(
        s.cancel(&p.id, b"{}", t0()).unwrap_err().code,
        "unprocessable_entity"
    );
    assert_eq!(
        s.capture("nope", b"", Behaviour::default().view(None), t0())
            .unwrap_err()
            .http_status,
        404
    );
    assert_eq!(s.stats.payment(&p.id).captures, 1);
    assert_eq!(s.stats.payment(&p.id).cancels, 0);
}

#[test]
fn lists_filter_and_page_newest_first() {
    let mut s = state();
    let mut ids = Vec::new();
    for i in 0..5 {
        let p = s.create_payment(
            100,
            0,
            0,
            Some("O1"),
            PaymentType::PayPay,
            CaptureMode::Auto,
            t0() + TimeDelta::seconds(i),
        );
        ids.push(p.id);
    }
    create(&mut s, 100, 0, Some("O2"), "paypay", CaptureMode::Auto);
    s.authorize(&ids[0], t0());
    let q = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>()
    };
    let page = s
        .list(&q(&[
            ("external_order_num", "O1"),
            ("per_page", "2"),
            ("page", "2"),
        ]))
        .unwrap();
    assert_eq!(
        (page.total, page.last_page, page.page, page.per_page),
        (5, 3, 2, 2)
    );
    assert_eq!(page.data[0].id, ids[2]);
    let captured = s.list(&q(&[("status", "captured,refunded")])).unwrap();
    assert_eq!(captured.total, 1);
    assert_eq!(s.list(&q(&[])).unwrap().total, 6);
    assert_eq!(s.list(&q(&[("page", "x")])).unwrap_err().http_status, 422);
    assert_eq!(
        s.list(&q(&[("per_page", "1000")])).unwrap().per_page,
        MAX_PER_PAGE
    );
}

#[test]
fn webhook_bodies_carry_the_payment_as_it_is_now() {
    let mut s = state();
    let p = order_o1_by_card(&mut s);
    s.authorize(&p.id, t0());
    let ping = s.ping(t0());
    let effects = s.take_effects();
    let bodies: Vec<Value> = effects
        .iter()
        .map(|Effect::Webhook(e)| serde_json::from_slice(&e.body).unwrap())
        .collect();
    assert_eq!(bodies[0]["type"], "payment.authorized");
    assert_eq!(bodies[0]["resource"], "event");
    assert_eq!(bodies[0]["data"]["id"], p.id.as_str());
    assert_eq!(bodies[0]["data"]["status"], "authorized");
    assert_eq!(bodies[0]["created_at"], "2026-11-22T01:00:00Z");
    assert_eq!(bodies[0]["reason"], Value::Null);
    assert_eq!(bodies[1]["id"], ping.as_str());
    assert_eq!(bodies[1]["data"], serde_json::json!({}));
    let Effect::Webhook(first) = &effects[0];
    assert_eq!(first.payment_id.as_deref(), Some(p.id.as_str()));
    assert_eq!(bodies[0]["id"], first.event_id.as_str());
}

#[test]
fn cash_types_wait_authorized_and_refuse_capture_and_refund() {
    let mut s = state();
    let p = create(&mut s, 1000, 100, Some("K1"), "konbini", CaptureMode::Auto);
    assert_eq!(p.status, PaymentStatus::Authorized);
    assert!(p.payment_deadline.is_some());
    assert_eq!(kinds(s.take_effects()), ["payment.authorized"]);
    let view = Behaviour::default().view(None);
    let refused = s.capture(&p.id, b"{}", view, t0()).unwrap_err();
    assert_eq!(
        (refused.http_status, refused.code),
        (422, "unprocessable_entity")
    );
    assert_eq!(s.payment(&p.id).unwrap().status, PaymentStatus::Authorized);
    s.capture_by_customer(&p.id, t0()).unwrap();
    assert_eq!(s.refund(&p.id, b"{}", t0()).unwrap_err().http_status, 422);
    s.take_effects();
    let bank = r#"{"amount":1100,"customer_name":"ﾔﾏﾀﾞ ﾀﾛｳ","bank_name":"みずほ銀行",
        "bank_code":"0001","branch_number":"001","account_type":"normal","account_number":1234}"#
        .as_bytes();
    let bad = r#"{"amount":1100,"customer_name":"山田","bank_name":"x","branch_number":"001",
        "account_type":"normal","account_number":"1234567"}"#
        .as_bytes();
    assert_eq!(
        s.refund_request(&p.id, bad, t0()).unwrap_err().param,
        Some("customer_name")
    );
    s.refund_request(&p.id, bank, t0()).unwrap();
    let filed = s.payment(&p.id).unwrap().refund_requests[0].clone();
    assert_eq!(filed.account_number, "0001234");
    s.reject_refund_request(&p.id, t0()).unwrap();
    assert_eq!(kinds(s.take_effects()), ["refund_request.updated"]);
    s.refund_request(&p.id, bank, t0()).unwrap();
    s.complete_refund_request(&p.id, t0()).unwrap();
    assert_eq!(s.payment(&p.id).unwrap().status, PaymentStatus::Refunded);
    assert_eq!(
        kinds(s.take_effects()),
        [
            "refund_request.updated",
            "payment.refund.created",
            "payment.refunded"
        ]
    );
}

#[test]
fn deadlines_expire_unpaid_slips_and_partial_captures_follow_the_version() {
    let mut s = state();
    let p = create(&mut s, 1000, 0, None, "bank_transfer", CaptureMode::Auto);
    let deadline = p.payment_deadline.unwrap();
    assert_eq!(s.expire_due(deadline), 0);
    assert_eq!(s.expire_due(deadline + TimeDelta::seconds(1)), 1);
    assert_eq!(s.payment(&p.id).unwrap().status, PaymentStatus::Expired);
    // Before 2025-01-28 a partial capture is a full capture plus a refund.
    let card = order_o1_by_card(&mut s);
    s.authorize(&card.id, t0()).unwrap();
    let old = Behaviour::default().view(Some("2024-07-15"));
    let w = s
        .capture(&card.id, br#"{"amount":800}"#, old, t0())
        .unwrap();
    assert_eq!((w.amount_refunded, w.captures.len()), (200, 0));
}
