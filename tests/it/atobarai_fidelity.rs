//! Atobarai.com as its server source answers (the contract's Corrections):
//! `detail` with the status as element text, `cancel` and `status` answering
//! `error` with a result per order, the caller's address not registered
//! (`E..101`) as a configuration problem, and the 60-day registration limit.

use std::time::Duration;

use ordersync_sim::atobarai_com::{AtobaraiService, AtobaraiSimConfig, DataStatus, Fault};
use serde_json::{Value, json};

use crate::helpers::*;

fn order(id: &str, ordered_at: &str) -> Value {
    json!({"channel": "direct", "id": id, "ordered_at": ordered_at,
        "customer": {"name": "山田 太郎", "name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "postal_code": "1000001",
                     "address": "東京都千代田区千代田1-1", "phone": "0312345678", "email": "taro@example.jp"},
        "ship_to": null,
        "lines": [{"line_no": 1, "sku": "AF-A", "name": "南部鉄器 急須", "qty": 1, "unit_price": 5500}],
        "shipping_fee": 800, "fee": 0, "payment": {"method": "atobarai_com"}, "allocate": false})
}

fn today() -> String {
    ordersync::domain::time::rfc3339(ordersync::domain::time::now())
}

async fn app() -> TestApp {
    spawn_app_with(Options::atobarai("poll_interval = \"1h\"").daemon("http_timeout = \"1s\""))
        .await
}

async fn register(app: &TestApp, body: Value) {
    let (status, o) = app.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{o}");
}

#[tokio::test]
async fn a_shipped_order_is_followed_to_paid_through_detail_with_no_attention() {
    let app = app().await;
    let sim = app.atobarai.as_ref().unwrap();
    register(&app, order("AF-PAY", &today())).await;
    app.wait_direct("AF-PAY", |o| o["credit"]["result"] == "ok")
        .await;
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/AF-PAY/shipment",
            json!({"carrier": "sagawa", "tracking_no": "400012345678", "shipped_on": "2026-11-24"}),
        )
        .await;
    assert_eq!(status, 202);
    app.wait_direct("AF-PAY", |o| {
        o["credit"]["transaction"] == "shipment_registered"
    })
    .await;
    // The buyer pays: detail moves on (its status is the element's text).
    sim.advance_clock(Duration::from_secs(16 * 24 * 3600));
    let o = app
        .poll_direct("AF-PAY", |o| o["payment_state"] == "paid")
        .await;
    assert!(o["attention"].is_null(), "{o}");
    assert_eq!(o["credit"]["transaction"], "paid");
    app.stop().await;
}

#[tokio::test]
async fn a_cancel_answered_error_with_its_result_is_read_and_a_repeat_taken_as_done() {
    let app = app().await;
    let sim = app.atobarai.as_ref().unwrap();
    register(&app, order("AF-C", &today())).await;
    let o = app
        .wait_direct("AF-C", |o| o["credit"]["result"] == "ok")
        .await;
    let reference = o["payment"]["reference"].as_str().unwrap().to_string();
    // The first cancel goes through but its answer is lost: the retry is
    // refused per order (E05301, top status error), detail shows it done.
    sim.inject(AtobaraiService::Cancel, Fault::Timeout, 1);
    let (status, _) = app
        .post(
            "/api/v1/orders/direct/AF-C/cancel",
            json!({"reason": "the customer called"}),
        )
        .await;
    assert_eq!(status, 202);
    let o = app
        .wait_direct("AF-C", |o| o["credit"]["transaction"] == "cancelled")
        .await;
    assert!(o["attention"].is_null(), "{o}");
    assert!(sim.stats().calls(AtobaraiService::Cancel) >= 2);
    assert!(matches!(
        sim.order(&reference).unwrap().status,
        DataStatus::CancelRequested | DataStatus::Cancelled
    ));
    let (_, dead) = app.get("/api/v1/outbox?state=dead").await;
    assert_eq!(dead["outbox"], json!([]), "{dead}");
    app.stop().await;
}

#[tokio::test]
async fn an_unregistered_server_address_is_shown_with_the_fix_and_the_call_waits() {
    let app = spawn_app_with(Options {
        atobarai: Some(AtobaraiSimConfig::default()),
        atobarai_extra: "poll_interval = \"1h\"".into(),
        // A short max_delay: the blocked call is tried again within it.
        retry: ("20ms", "300ms", "1s"),
        ..Options::default()
    })
    .await;
    let sim = app.atobarai.as_ref().unwrap();
    sim.set_allowed_sources(vec!["192.0.2.0/24".parse().unwrap()]);
    register(&app, order("AF-IP", &today())).await;
    let fix = app.wait_provider_problem("atobarai_com").await;
    assert!(
        fix.contains("IPアドレス") && fix.contains("E..101"),
        "{fix}"
    );
    let out = app.cli(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("atobarai_com: 後払い.com"));
    assert!(
        app.metrics()
            .await
            .contains("ordersync_provider_problem{provider=\"atobarai_com\"} 1")
    );
    // Longer than give_up_after: the call is never given up for it, nor
    // counted as an attempt; the order has no attention of its own.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, pending) = app.get("/api/v1/outbox?state=pending").await;
    let call = &pending["outbox"][0];
    assert_eq!(call["kind"], "credit_request", "{pending}");
    assert_eq!(call["attempts"], 0, "{pending}");
    let refused = sim.stats().refused_ip;
    assert!(
        (2..=12).contains(&refused),
        "no tight loop: {refused} refusals"
    );

    // The address is registered: the next try goes through and the problem clears.
    sim.set_allowed_sources(vec!["127.0.0.0/8".parse().unwrap()]);
    app.wait_direct("AF-IP", |o| o["credit"]["result"] == "ok")
        .await;
    app.wait_problem_cleared("atobarai_com").await;
    app.stop().await;
}

#[tokio::test]
async fn an_order_older_than_60_days_is_refused_with_a_readable_reason() {
    let app = app().await;
    let old = ordersync::domain::time::rfc3339(
        ordersync::domain::time::now() - chrono::Duration::days(70),
    );
    register(&app, order("AF-OLD", &old)).await;
    let o = app
        .wait_direct("AF-OLD", |o| o["attention"].is_string())
        .await;
    let reason = o["attention"].as_str().unwrap();
    assert!(
        reason.contains("E00306") && reason.contains("60 days"),
        "{reason}"
    );
    app.stop().await;
}
