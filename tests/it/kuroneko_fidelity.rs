//! Kuroneko Atobarai as Yamato's own plugins and error catalogue describe it
//! (the contract's Corrections): who counts as a gift, the character range
//! checked before the credit request, hyphenated tracking numbers, shipYmd
//! with processDiv 1 only, and a refused password as a configuration
//! problem with its per-function code.

use std::time::Duration;

use ordersync::providers::credit::kuroneko::order_no_for;
use ordersync_sim::kuroneko::{Endpoint, KuronekoSimConfig, form_value};
use serde_json::{Value, json};

use crate::helpers::*;

fn customer(name: &str) -> Value {
    json!({"name": name, "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "100-0001",
           "address": "東京都千代田区千代田1-1", "phone": "03-1234-5678", "email": "taro@example.jp"})
}

fn order(id: &str, customer: Value, ship_to: Value) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": "2026-11-23T10:00:00+09:00",
        "customer": customer, "ship_to": ship_to,
        "lines": [{"line_no": 1, "sku": "KF-A", "name": "南部鉄器 急須①", "qty": 1, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": "kuroneko"}, "allocate": false})
}

async fn app() -> TestApp {
    crate::credit::kuroneko_app(KuronekoSimConfig::default()).await
}

async fn register(app: &TestApp, body: Value) {
    let (status, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{o}");
}

#[tokio::test]
async fn a_recipient_at_the_buyers_address_without_email_is_not_a_gift() {
    let app = app().await;
    let sim = app.kuroneko.as_ref().unwrap();
    // The same person and place written another way, with no e-mail.
    let same = json!({"name": "山田　太郎", "postal_code": "1000001",
        "address": "東京都千代田区千代田１－１", "phone": "0312345678"});
    register(&app, order("KF-SELF", customer("山田 太郎"), same)).await;
    let elsewhere = json!({"name": "佐藤 花子", "postal_code": "4600001",
        "address": "愛知県名古屋市中区三の丸1-1", "phone": "0521234567"});
    register(&app, order("KF-GIFT", customer("山田 太郎"), elsewhere)).await;
    for id in ["KF-SELF", "KF-GIFT"] {
        app.wait_direct(id, |o| o["credit"]["result"] == "ok").await;
    }
    let own = sim.order(&order_no_for("KF-SELF", 1)).expect("at Yamato");
    assert_eq!(own.send_div, 0, "invoice to the buyer, no recipient");
    let gift = sim.order(&order_no_for("KF-GIFT", 1)).expect("at Yamato");
    assert_eq!(gift.send_div, 1);
    let bodies = sim.stats().bodies(Endpoint::Credit).len();
    assert_eq!(bodies, 2);
    app.stop().await;
}

#[tokio::test]
async fn machine_dependent_characters_are_replaced_and_listed_or_refused_before_sending() {
    let app = app().await;
    let sim = app.kuroneko.as_ref().unwrap();
    register(&app, order("KF-TAKA", customer("髙橋 一郎"), Value::Null)).await;
    app.wait_direct("KF-TAKA", |o| o["credit"]["result"] == "ok")
        .await;
    let at_yamato = sim.order(&order_no_for("KF-TAKA", 1)).unwrap();
    assert_eq!(at_yamato.name, "高橋　一郎");
    assert_eq!(at_yamato.items[0].0, "南部鉄器　急須１");
    let events = app
        .daemon()
        .store
        .read(|c| ordersync::store::events::for_order(c, "direct", "KF-TAKA"))
        .await
        .unwrap();
    let replaced = events
        .iter()
        .find(|e| e.kind == "credit.characters_replaced")
        .unwrap_or_else(|| panic!("no replacement event: {events:?}"));
    let listed = replaced.detail["replaced"].to_string();
    assert!(
        listed.contains("buyer.name: 髙→高") && listed.contains("①→１"),
        "{listed}"
    );

    // No safe replacement: refused with the field and the character, and
    // nothing reaches Yamato, so no orderNo is used up.
    register(&app, order("KF-EMOJI", customer("山田 😀"), Value::Null)).await;
    let o = app
        .wait_direct("KF-EMOJI", |o| o["attention"].is_string())
        .await;
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.contains("buyer.name") && reason.contains("😀") && reason.contains("使えない文字"),
        "{reason}"
    );
    assert!(sim.order(&order_no_for("KF-EMOJI", 1)).is_none());
    assert_eq!(
        sim.stats().calls(Endpoint::Credit),
        1,
        "only KF-TAKA was sent"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_hyphenated_yamato_number_is_registered_without_shipymd() {
    let app = app().await;
    let sim = app.kuroneko.as_ref().unwrap();
    register(&app, order("KF-SHIP", customer("山田 太郎"), Value::Null)).await;
    app.wait_direct("KF-SHIP", |o| o["credit"]["result"] == "ok")
        .await;
    // Past Yamato's pause after the credit request.
    sim.advance_clock(Duration::from_secs(120));
    // 12345678901 mod 7 = 3, written as the label prints it.
    let (status, body) = app.post("/api/v1/orders/direct/KF-SHIP/shipment", json!({"carrier": "yamato", "tracking_no": "1234-5678-9013", "shipped_on": "2026-11-24"})).await;
    assert_eq!(status, 202, "{body}");
    app.wait_direct("KF-SHIP", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    let no = order_no_for("KF-SHIP", 1);
    assert_eq!(
        sim.order(&no).unwrap().payment_no.as_deref(),
        Some("123456789013")
    );
    let sent = sim.stats().last_body(Endpoint::Shipment).cloned().unwrap();
    assert_eq!(form_value(&sent, "processDiv"), Some("0"));
    assert_eq!(form_value(&sent, "shipYmd"), None);
    app.stop().await;
}

#[tokio::test]
async fn a_changed_password_is_a_configuration_problem_and_the_call_waits() {
    let app = spawn_app_with(Options {
        kuroneko: Some(KuronekoSimConfig::default()),
        kuroneko_extra: "settle_delay = \"0s\"\npoll_interval = \"1h\"".into(),
        daemon_extra: "http_timeout = \"1s\"".into(),
        // A short max_delay: the blocked call is tried again within it.
        retry: ("20ms", "300ms", "1s"),
        ..Options::default()
    })
    .await;
    let sim = app.kuroneko.as_ref().unwrap();
    sim.set_password("changed1");
    register(&app, order("KF-PW", customer("山田 太郎"), Value::Null)).await;
    let fix = app.wait_provider_problem("kuroneko").await;
    assert!(fix.contains("store_code と password"), "{fix}");
    // Longer than give_up_after: never given up, never counted as an attempt.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, pending) = app.get("/api/v1/outbox?state=pending").await;
    assert_eq!(pending["outbox"][0]["kind"], "credit_request", "{pending}");
    assert_eq!(pending["outbox"][0]["attempts"], 0, "{pending}");
    let refusals = sim.stats().credential_refusals;
    assert!((1..=12).contains(&refusals), "no tight loop: {refusals}");

    sim.set_password(&KuronekoSimConfig::default().password);
    app.wait_direct("KF-PW", |o| o["credit"]["result"] == "ok")
        .await;
    app.stop().await;
}
